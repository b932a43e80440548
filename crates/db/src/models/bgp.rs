//! bgp: communities and relationships.

use crate::choices::*;
use crate::hooks::{self, Hooks};
use crate::model::Lookups::*;
use crate::model::{f, *};

pub static COMMUNITY: Model = Model {
    app: "bgp",
    name: "community",
    verbose: "community",
    verbose_plural: "communities",
    table: "bgp_community",
    api: "communities",
    ui: Some("/bgp/communities/"),
    fields: &[
        f::ID,
        f::text("name", 100).required().unique("Community with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("Community with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::text("value", 50).required().filter(Str),
        Field::new("type", Kind::Choice(COMMUNITY_TYPE)).null().filter(Rel),
        f::computed("kind", Computed::CommunityKind),
        f::LOCAL_CONTEXT_DATA,
        f::CONFIG_CONTEXT,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["value", "name"],
    brief: &["name", "slug", "value", "type"],
    brief_display_url: true,
    filters: &[],
    search: &[
        Search::Contains("name"),
        Search::Contains("value"),
        Search::Contains("slug"),
        Search::Contains("description"),
    ],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks { clean: Some(hooks::community) },
    unique_together: &[],
};

pub static RELATIONSHIP: Model = Model {
    app: "bgp",
    name: "relationship",
    verbose: "relationship",
    verbose_plural: "relationships",
    table: "bgp_relationship",
    api: "relationships",
    ui: Some("/bgp/relationships/"),
    fields: &[
        f::ID,
        f::text("name", 100).required().unique("Relationship with this name already exists.").filter(Str),
        f::text("slug", 100).required().unique("Relationship with this slug already exists.").filter(Str),
        f::DESCRIPTION,
        f::text("color", 6).default(Init::Text("9e9e9e")),
        f::LOCAL_CONTEXT_DATA_HIDDEN,
        f::TAGS,
        f::CREATED,
        f::UPDATED,
    ],
    ordering: &["name"],
    brief: &["name", "slug"],
    brief_display_url: true,
    filters: &[],
    search: &[Search::Contains("name"), Search::Contains("slug"), Search::Contains("description")],
    features: Features::PRIMARY,
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks { clean: Some(hooks::colour) },
    unique_together: &[],
};
