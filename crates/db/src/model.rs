//! The one declaration every model makes.
//!
//! A [`Model`] is a `static` value listing its table, API and UI paths and its
//! [`Field`]s in API order. Generic code reads it to build the schema, the
//! filters, the JSON representations, writes, change-log snapshots and the
//! OpenAPI document, so a model never needs a handler of its own.

use crate::hooks::Hooks;

/// A choice: stored value and human label (Peering Manager's ChoiceSet).
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

pub const fn c(value: &'static str, label: &'static str) -> Choice {
    Choice { value, label }
}

/// What happens to a row when the row its foreign key points to is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    Cascade,
    SetNull,
    Protect,
    /// No database constraint and nothing happens on delete: the PeeringDB
    /// mirror refers to rows PeeringDB does not always send (private or
    /// pending objects), and the sync must store them anyway.
    NoConstraint,
}

/// Values computed at read time (never stored, never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    /// Merged config contexts + local context data.
    ConfigContext,
    /// `standard` / `extended` / `large` from the community value.
    CommunityKind,
    /// Same text as `display` (Connection.name).
    Display,
    /// `{ipv6: [...], ipv4: [...]}` of the linked PeeringDB IXLan.
    PeeringdbPrefixes,
    /// PeeringDB-backed booleans of IXP sessions (false until the cache exists).
    ExistsInPeeringdb,
    IsAbandoned,
    /// Number of objects carrying a tag.
    TaggedItems,
    /// Number of users in a group.
    UserCount,
    /// Generic relation target rendered nested (assignments, journal entries).
    GenericObject {
        type_field: &'static str,
        id_field: &'static str,
    },
    /// Change log: the live object, nested.
    ChangedObject,
    /// Jobs: output lines joined.
    JobOutput,
    /// Token / HiddenPeer expiry.
    IsExpired,
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Auto-increment primary key.
    Id,
    Int {
        min: i64,
        max: i64,
    },
    Float,
    /// CharField: trimmed, length checked.
    Text {
        max: usize,
    },
    /// TextField: no length limit.
    LongText,
    Bool,
    /// Text-valued choice, stored raw.
    Choice(&'static [Choice]),
    /// Integer-valued choice (address families).
    IntChoice(&'static [(i64, &'static str)]),
    /// IP address; `prefix` keeps the prefix length (interface form).
    Inet {
        prefix: bool,
    },
    Mac,
    /// Any JSON; `object` demands a JSON object.
    Json {
        object: bool,
    },
    /// JSON array of integers (AS list).
    IntList,
    /// JSON array of CIDR strings (token allowed IPs).
    CidrList,
    /// JSON array of strings (permission actions).
    StrList,
    /// PeeringDB multiple choice: stored comma-joined in a text column,
    /// exposed as a JSON list of strings.
    MultiChoice,
    DateTime,
    Uuid,
    /// Foreign key, stored as `<name>_id`. `nested` renders the target's
    /// brief representation; otherwise the bare integer id.
    Fk {
        to: &'static str,
        nested: bool,
        on_delete: OnDelete,
    },
    /// Many-to-many through `table(src, dst)`.
    M2m {
        to: &'static str,
        table: &'static str,
        src: &'static str,
        dst: &'static str,
    },
    /// Content type as `"app.model"`, stored as `<name>_id` → django_content_type.
    ContentType,
    /// Many-to-many of content types (webhooks, permissions).
    ContentTypes {
        table: &'static str,
        src: &'static str,
        dst: &'static str,
    },
    /// Tags through extras_taggeditem.
    Tags,
    Computed(Computed),
}

#[derive(Debug, Clone, Copy)]
pub enum Init {
    None,
    Null,
    Int(i64),
    Bool(bool),
    Text(&'static str),
    /// JSON literal.
    Json(&'static str),
    Now,
}

/// Which lookup suffixes a filter accepts (spec §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookups {
    /// No filter generated.
    Off,
    /// exact only, single value.
    Exact,
    /// `n lt lte gt gte` + `empty`.
    Num,
    /// `n ic nic isw nisw iew niew ie nie` + `empty`.
    Str,
    /// exact and `n` (choices, relations).
    Rel,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub label: &'static str,
    pub null: bool,
    pub required: bool,
    pub read_only: bool,
    pub write_only: bool,
    /// Part of the API representation (some columns are internal).
    pub api: bool,
    pub default: Init,
    /// Message when another row already holds this value.
    pub unique: Option<&'static str>,
    /// Render `{value, label}` instead of the raw value.
    pub choice_object: bool,
    /// Returned only to callers allowed the `view_secrets` action.
    pub secret: bool,
    pub filter: Lookups,
    /// Recorded in change-log snapshots.
    pub snapshot: bool,
    /// API requires the key even though null is fine (Connection POST quirk).
    pub key_required: bool,
    /// On a content-type field: the column holding the object's id, when a row
    /// is visible only to those who may view that object (a job's output is
    /// the object's rendered configuration, say).
    pub gates_view: Option<&'static str>,
}

impl Field {
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            label: "",
            null: false,
            required: false,
            read_only: false,
            write_only: false,
            api: true,
            default: Init::None,
            unique: None,
            choice_object: false,
            secret: false,
            filter: Lookups::Off,
            snapshot: true,
            key_required: false,
            gates_view: None,
        }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn null(mut self) -> Self {
        self.null = true;
        // Django: a nullable field without an explicit default is None when
        // omitted, text fields included (PM returns `null`, templates print `None`).
        let blank = match self.default {
            Init::None => true,
            Init::Text(t) => t.is_empty(),
            _ => false,
        };
        if blank {
            self.default = Init::Null;
        }
        self
    }
    pub const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
    pub const fn wo(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub const fn internal(mut self) -> Self {
        self.api = false;
        self
    }
    pub const fn default(mut self, d: Init) -> Self {
        self.default = d;
        self
    }
    pub const fn unique(mut self, msg: &'static str) -> Self {
        self.unique = Some(msg);
        self
    }
    pub const fn obj(mut self) -> Self {
        self.choice_object = true;
        self
    }
    /// Rows are visible only with the object this content type and `id_column` name.
    pub const fn gates_view(mut self, id_column: &'static str) -> Self {
        self.gates_view = Some(id_column);
        self
    }
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    pub const fn filter(mut self, l: Lookups) -> Self {
        self.filter = l;
        self
    }
    pub const fn no_snapshot(mut self) -> Self {
        self.snapshot = false;
        self
    }
    pub const fn key_required(mut self) -> Self {
        self.key_required = true;
        self
    }
    pub const fn label(mut self, l: &'static str) -> Self {
        self.label = l;
        self
    }

    /// The database column, if the field has one.
    pub fn column(&self) -> Option<&'static str> {
        match self.kind {
            Kind::M2m { .. } | Kind::ContentTypes { .. } | Kind::Tags | Kind::Computed(_) => None,
            Kind::Fk { .. } | Kind::ContentType => Some(fk_column(self.name)),
            _ => Some(self.name),
        }
    }

    pub fn is_fk(&self) -> bool {
        matches!(self.kind, Kind::Fk { .. })
    }

    pub fn writable(&self) -> bool {
        !self.read_only && !matches!(self.kind, Kind::Id | Kind::Computed(_))
    }

    pub fn choices(&self) -> Option<&'static [Choice]> {
        match self.kind {
            Kind::Choice(c) => Some(c),
            _ => None,
        }
    }
}

/// `router` → `router_id`. Built once from the registry, then read without
/// locking (this sits on every row read).
pub fn fk_column(name: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for m in crate::registry::MODELS {
            for f in m.fields.iter().filter(|f| matches!(f.kind, Kind::Fk { .. } | Kind::ContentType)) {
                map.entry(f.name).or_insert_with(|| &*Box::leak(format!("{}_id", f.name).into_boxed_str()));
            }
        }
        map
    });
    match map.get(name) {
        Some(c) => c,
        None => Box::leak(format!("{name}_id").into_boxed_str()),
    }
}

/// A filter that is not a plain field filter: a path through foreign keys,
/// or a custom predicate.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// Query parameter name (suffixes are appended to it).
    pub name: &'static str,
    pub target: FilterTarget,
    pub lookups: Lookups,
}

#[derive(Debug, Clone, Copy)]
pub enum FilterTarget {
    /// Dotted path through FK fields ending at a column or field name,
    /// e.g. `local_autonomous_system.asn`, `router.name`, `bgp_group_id`.
    Path(&'static str),
    /// Rows whose M2M field holds a target matching `column` (e.g. group by name).
    M2m { field: &'static str, column: &'static str },
    /// Hand-written predicate.
    Custom(crate::query::custom::CustomFilter),
}

pub const fn path(name: &'static str, p: &'static str, lookups: Lookups) -> Filter {
    Filter { name, target: FilterTarget::Path(p), lookups }
}

pub const fn custom(name: &'static str, f: crate::query::custom::CustomFilter) -> Filter {
    Filter { name, target: FilterTarget::Custom(f), lookups: Lookups::Exact }
}

/// How `q` matches a path.
#[derive(Debug, Clone, Copy)]
pub enum Search {
    /// Case-insensitive substring of a text path.
    Contains(&'static str),
    /// Decimal text of a number starts with the digits given.
    NumStartsWith(&'static str),
    /// Number equals the digits given.
    NumEquals(&'static str),
    /// When `q` parses as an IP address: exact host match (prefix length ignored).
    IpHost(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub tags: bool,
    pub change_log: bool,
    pub config_context: bool,
    pub journal: bool,
    /// Accepts webhooks / export templates.
    pub webhooks: bool,
    /// Created/updated timestamps maintained.
    pub timestamps: bool,
    /// Shown in global search.
    pub search: bool,
}

impl Features {
    /// PeeringManagerModel: change log, config context, tags, webhooks.
    pub const PRIMARY: Features = Features {
        tags: true,
        change_log: true,
        config_context: true,
        journal: false,
        webhooks: true,
        timestamps: true,
        search: true,
    };
    /// ChangeLoggedModel only.
    pub const LOGGED: Features = Features {
        tags: false,
        change_log: false,
        config_context: false,
        journal: false,
        webhooks: false,
        timestamps: true,
        search: false,
    }
    .logged();
    /// Records the system writes itself (change log, jobs).
    pub const SYSTEM: Features = Features {
        tags: false,
        change_log: false,
        config_context: false,
        journal: false,
        webhooks: false,
        timestamps: false,
        search: false,
    };
    pub const fn logged(mut self) -> Self {
        self.change_log = true;
        self
    }
    pub const fn with_journal(mut self) -> Self {
        self.journal = true;
        self
    }
    pub const fn with_tags(mut self) -> Self {
        self.tags = true;
        self
    }
    pub const fn with_timestamps(mut self) -> Self {
        self.timestamps = true;
        self
    }
}

/// Which operations the API allows on a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
    /// Read and delete only (change log).
    ReadDelete,
    /// The PeeringDB cache: read-only and rendered plain (no `url`,
    /// `display_url` or `display` unless declared, nested objects in full,
    /// `brief`/`fields`/`exclude` ignored). Written only by the sync.
    Mirror,
}

/// Per-model lookup tables (see `Model::meta`).
struct Meta {
    columns: Vec<&'static Field>,
    index: std::collections::HashMap<&'static str, usize>,
}

impl Meta {
    fn build(m: &'static Model) -> Meta {
        let columns: Vec<&'static Field> = m.fields.iter().filter(|f| f.column().is_some()).collect();
        let mut index = std::collections::HashMap::new();
        for (i, f) in columns.iter().enumerate() {
            index.insert(f.name, i);
            index.insert(f.column().unwrap(), i);
        }
        Meta { columns, index }
    }
}

#[derive(Debug)]
pub struct Model {
    /// Django app label: `peering`.
    pub app: &'static str,
    /// Django model name: `autonomoussystem`.
    pub name: &'static str,
    /// `autonomous system` (messages: "No autonomous system matches...").
    pub verbose: &'static str,
    pub verbose_plural: &'static str,
    pub table: &'static str,
    /// `autonomous-systems` (under `/api/<app>/`).
    pub api: &'static str,
    /// `/autonomous-systems/`; None when the model has no detail page.
    pub ui: Option<&'static str>,
    pub fields: &'static [Field],
    /// Default ordering: column names, `-` for descending.
    pub ordering: &'static [&'static str],
    /// Fields of the nested ("brief") representation, besides the standard ones.
    pub brief: &'static [&'static str],
    /// Whether the brief representation carries `display_url`.
    pub brief_display_url: bool,
    pub filters: &'static [Filter],
    pub search: &'static [Search],
    pub features: Features,
    pub access: Access,
    /// FK paths whose targets `display` needs (loaded in batches).
    pub display_deps: &'static [&'static str],
    pub display: fn(&crate::object::View<'_>) -> String,
    pub hooks: Hooks,
    /// Multi-column unique constraints: (columns, message).
    pub unique_together: &'static [(&'static [&'static str], &'static str)],
}

impl Model {
    /// `peering.autonomoussystem`
    pub fn label(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Fields with a column, in declaration order (the order rows are read in).
    pub fn columns(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.meta().columns.iter().copied()
    }

    /// Position of a column by field name or column name (`router` or `router_id`).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.meta().index.get(name).copied()
    }

    /// Lookup tables computed once per model: reading a value is a hash
    /// probe, not a scan of the declaration.
    fn meta(&self) -> &'static Meta {
        use std::collections::HashMap;
        use std::sync::OnceLock;
        static ALL: OnceLock<HashMap<&'static str, Meta>> = OnceLock::new();
        let all = ALL.get_or_init(|| crate::registry::MODELS.iter().map(|m| (m.table, Meta::build(m))).collect());
        &all[self.table]
    }

    pub fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    pub fn api_list_path(&self) -> String {
        format!("/api/{}/{}/", self.app, self.api)
    }

    pub fn writable(&self) -> bool {
        self.access == Access::ReadWrite
    }

    /// Neither created, changed nor deleted through the API or the UI.
    pub fn read_only(&self) -> bool {
        matches!(self.access, Access::ReadOnly | Access::Mirror)
    }

    pub fn is_mirror(&self) -> bool {
        self.access == Access::Mirror
    }

    /// Whether the model has API endpoints (Carrier and CarrierFacility are
    /// cached without any).
    pub fn has_api(&self) -> bool {
        !self.api.is_empty()
    }
}

// Shared field declarations, so every model spells them the same way.
pub mod f {
    use super::*;

    pub const ID: Field = Field::new("id", Kind::Id).ro().filter(Lookups::Num);
    pub const CREATED: Field = Field::new("created", Kind::DateTime).ro().null().filter(Lookups::Num);
    pub const UPDATED: Field = Field::new("updated", Kind::DateTime).ro().null().filter(Lookups::Num).no_snapshot();
    pub const TAGS: Field = Field::new("tags", Kind::Tags);
    pub const LOCAL_CONTEXT_DATA: Field = Field::new("local_context_data", Kind::Json { object: true }).null();
    /// The column exists on every PeeringManagerModel even where the API hides it.
    pub const LOCAL_CONTEXT_DATA_HIDDEN: Field = LOCAL_CONTEXT_DATA.internal();
    pub const CONFIG_CONTEXT: Field = Field::new("config_context", Kind::Computed(Computed::ConfigContext));
    pub const DESCRIPTION: Field =
        Field::new("description", Kind::Text { max: 200 }).default(Init::Text("")).filter(Lookups::Str);
    pub const DESCRIPTION_NOFILTER: Field = Field::new("description", Kind::Text { max: 200 }).default(Init::Text(""));
    pub const COMMENTS: Field = Field::new("comments", Kind::LongText).default(Init::Text(""));

    pub const fn text(name: &'static str, max: usize) -> Field {
        Field::new(name, Kind::Text { max }).default(Init::Text(""))
    }
    pub const fn long_text(name: &'static str) -> Field {
        Field::new(name, Kind::LongText).default(Init::Text(""))
    }
    pub const fn int(name: &'static str, min: i64, max: i64) -> Field {
        Field::new(name, Kind::Int { min, max })
    }
    pub const fn uint(name: &'static str) -> Field {
        Field::new(name, Kind::Int { min: 0, max: i64::MAX })
    }
    pub const fn boolean(name: &'static str, default: bool) -> Field {
        Field::new(name, Kind::Bool).default(Init::Bool(default))
    }
    pub const fn choice(name: &'static str, choices: &'static [Choice], default: &'static str) -> Field {
        Field::new(name, Kind::Choice(choices)).default(Init::Text(default)).filter(Lookups::Rel)
    }
    pub const fn fk(name: &'static str, to: &'static str, on_delete: OnDelete) -> Field {
        Field::new(name, Kind::Fk { to, nested: true, on_delete })
    }
    pub const fn fk_id(name: &'static str, to: &'static str, on_delete: OnDelete) -> Field {
        Field::new(name, Kind::Fk { to, nested: false, on_delete })
    }
    pub const fn m2m(
        name: &'static str,
        to: &'static str,
        table: &'static str,
        src: &'static str,
        dst: &'static str,
    ) -> Field {
        Field::new(name, Kind::M2m { to, table, src, dst })
    }
    pub const fn json(name: &'static str) -> Field {
        Field::new(name, Kind::Json { object: false }).null()
    }
    pub const fn computed(name: &'static str, c: Computed) -> Field {
        Field::new(name, Kind::Computed(c))
    }
    pub const fn datetime(name: &'static str) -> Field {
        Field::new(name, Kind::DateTime).null()
    }
}
