//! users: accounts, groups, object permissions and API tokens.

use crate::hooks::{self, Hooks};
use crate::model::Lookups::*;
use crate::model::OnDelete::*;
use crate::model::{f, *};
use crate::query::custom::CustomFilter as C;

pub static GROUP: Model = Model {
    app: "users",
    name: "group",
    verbose: "group",
    verbose_plural: "groups",
    table: "auth_group",
    api: "groups",
    ui: None,
    fields: &[
        f::ID,
        f::text("name", 150).required().unique("Group with this name already exists.").filter(Exact),
        f::computed("user_count", Computed::UserCount),
    ],
    ordering: &["name"],
    brief: &["name"],
    brief_display_url: false,
    filters: &[],
    search: &[Search::Contains("name")],
    features: Features::SYSTEM.logged(),
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks::NONE,
    unique_together: &[],
};

pub static USER: Model = Model {
    app: "users",
    name: "user",
    verbose: "user",
    verbose_plural: "users",
    table: "auth_user",
    api: "users",
    ui: None,
    fields: &[
        f::ID,
        f::text("username", 150).required().unique("A user with that username already exists.").filter(Exact),
        f::text("password", 128).required().wo().no_snapshot(),
        f::text("first_name", 150).filter(Exact),
        f::text("last_name", 150).filter(Exact),
        f::text("email", 254).filter(Exact),
        f::boolean("is_staff", false).filter(Exact),
        f::boolean("is_active", true).filter(Exact),
        f::boolean("is_superuser", false).internal(),
        f::datetime("date_joined").default(Init::Now),
        f::datetime("last_login").internal().no_snapshot(),
        f::m2m("groups", "users.group", "auth_user_groups", "user_id", "group_id"),
    ],
    ordering: &["username"],
    brief: &["username"],
    brief_display_url: false,
    filters: &[
        Filter { name: "group_id", target: FilterTarget::M2m { field: "groups", column: "id" }, lookups: Rel },
        Filter { name: "group", target: FilterTarget::M2m { field: "groups", column: "name" }, lookups: Rel },
    ],
    search: &[
        Search::Contains("username"),
        Search::Contains("first_name"),
        Search::Contains("last_name"),
        Search::Contains("email"),
    ],
    features: Features::SYSTEM.logged(),
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| {
        let full = format!("{} {}", v.text("first_name"), v.text("last_name"));
        let full = full.trim();
        if full.is_empty() { v.text("username").to_string() } else { format!("{} ({full})", v.text("username")) }
    },
    hooks: Hooks { clean: Some(hooks::user) },
    unique_together: &[],
};

/// NetBox-style object permission: actions on object types, optionally
/// limited by constraints written as filter lookups (`{"asn__lt": 65000}`).
pub static OBJECT_PERMISSION: Model = Model {
    app: "users",
    name: "objectpermission",
    verbose: "permission",
    verbose_plural: "permissions",
    table: "users_objectpermission",
    api: "permissions",
    ui: None,
    fields: &[
        f::ID,
        f::text("name", 100).required().filter(Str),
        f::DESCRIPTION,
        f::boolean("enabled", true).filter(Exact),
        Field::new(
            "object_types",
            Kind::ContentTypes {
                table: "users_objectpermission_object_types",
                src: "objectpermission_id",
                dst: "contenttype_id",
            },
        )
        .required(),
        Field::new("actions", Kind::StrList).required(),
        f::json("constraints"),
        f::m2m("groups", "users.group", "users_objectpermission_groups", "objectpermission_id", "group_id"),
        f::m2m("users", "users.user", "users_objectpermission_users", "objectpermission_id", "user_id"),
    ],
    ordering: &["name"],
    brief: &["name", "enabled", "object_types", "actions"],
    brief_display_url: false,
    filters: &[
        Filter { name: "user_id", target: FilterTarget::M2m { field: "users", column: "id" }, lookups: Rel },
        Filter { name: "group_id", target: FilterTarget::M2m { field: "groups", column: "id" }, lookups: Rel },
    ],
    search: &[Search::Contains("name"), Search::Contains("description")],
    features: Features::SYSTEM.logged(),
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks { clean: Some(hooks::object_permission) },
    unique_together: &[],
};

/// API tokens. Keys are stored as SHA-256 digests; only the last characters
/// are kept in clear so people can tell their tokens apart.
pub static TOKEN: Model = Model {
    app: "users",
    name: "token",
    verbose: "token",
    verbose_plural: "tokens",
    table: "users_token",
    api: "tokens",
    ui: None,
    fields: &[
        f::ID,
        f::fk("user", "users.user", Cascade).required().ro(),
        f::datetime("created").ro(),
        f::datetime("expires"),
        f::datetime("last_used").ro().no_snapshot(),
        f::text("key_digest", 64).internal().no_snapshot(),
        f::text("key_suffix", 8).ro(),
        f::boolean("write_enabled", true).filter(Exact),
        f::text("description", 100),
        Field::new("allowed_ips", Kind::CidrList).null(),
        f::computed("is_expired", Computed::IsExpired),
    ],
    ordering: &["-created"],
    brief: &["key_suffix", "write_enabled"],
    brief_display_url: false,
    filters: &[path("user_id", "user_id", Rel), custom("is_expired", C::IsExpired("expires"))],
    search: &[Search::Contains("description")],
    features: Features::SYSTEM,
    access: Access::ReadDelete,
    display_deps: &["user"],
    display: |v| {
        let user = v.related("user").map(|u| u.text("username")).unwrap_or("");
        format!("…{} ({user})", v.text("key_suffix"))
    },
    hooks: Hooks::NONE,
    unique_together: &[],
};
