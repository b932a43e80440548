//! What the web UI needs to know about models beyond their declaration:
//! URL prefixes for models the API declares without a page, default table
//! columns, count columns, and the sidebar. One small table, keyed by model
//! label; everything else is derived from the `Model` declarations.

use pm_db::model::{Field, Kind, Model, OnDelete};
use pm_db::registry;

/// A column counting the rows of another model pointing at this one.
#[derive(Debug, Clone, Copy)]
pub struct Count {
    /// Column name (`directpeeringsession_count`).
    pub name: &'static str,
    pub label: &'static str,
    /// `peering.directpeeringsession`
    pub model: &'static str,
    /// The FK field of that model pointing here.
    pub field: &'static str,
}

const fn count(name: &'static str, label: &'static str, model: &'static str, field: &'static str) -> Count {
    Count { name, label, model, field }
}

#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub label: &'static str,
    /// UI prefix when the declaration has none (`ui: None`).
    pub path: Option<&'static str>,
    /// Default visible columns, in order (spec §9.4, the bold ones).
    pub columns: &'static [&'static str],
    pub counts: &'static [Count],
    /// The column linking to the object (defaults to `name`, else the first column).
    pub link: Option<&'static str>,
    /// Whether objects have a page of their own.
    pub detail: bool,
    /// Whether the UI may add objects (change log and jobs are written by the system).
    pub add: bool,
    /// Listed in the UI (assignments only have add/edit/delete pages).
    pub list: bool,
    /// Form fields left out (synchronised from PeeringDB, internal).
    pub form_exclude: &'static [&'static str],
    /// Page title of the list, when not the plural name.
    pub title: Option<&'static str>,
    /// Whether the UI offers deletion (the change log is kept whole).
    pub delete: bool,
    /// The columns the model's `display` reads: tables load only these of
    /// related rows (empty: every column but large JSON and text).
    pub display_columns: &'static [&'static str],
    /// Detail tabs listing rows related through a filter rather than a
    /// foreign key (sessions of an IXP, through its connections).
    pub tabs: &'static [FilterTab],
    /// Extra buttons of the list's bulk bar, run on the selected rows.
    pub bulk_actions: &'static [BulkAction],
    /// What tells objects with the same display apart where they are listed
    /// without their table (search results, delete confirmations): related
    /// objects along a foreign-key path, each after a word (`("on",
    /// "ixp_connection.router")`: "… on edge1").
    pub context: &'static [(&'static str, &'static str)],
    /// Form fields that are not the object's: a picker whose value narrows
    /// another picker (the IXP of a session narrows its connections).
    /// Shown before the field they narrow; never written.
    pub form_only: &'static [Field],
    /// Pickers narrowed by another form field: (picker, narrowing field,
    /// the API filter the narrowing value is sent as).
    pub narrow: &'static [(&'static str, &'static str, &'static str)],
}

/// A picker of `to` that belongs to the form only (see `Meta::form_only`).
const fn form_picker(name: &'static str, to: &'static str, label: &'static str) -> Field {
    Field::new(name, Kind::Fk { to, nested: true, on_delete: OnDelete::NoConstraint }).null().label(label)
}

/// Session values set by polling the router, as in Peering Manager: shown,
/// never edited in forms.
const POLLED: &[&str] = &[
    "bgp_state",
    "received_prefix_count",
    "accepted_prefix_count",
    "advertised_prefix_count",
    "last_established_state",
];

/// A bulk-bar button: POSTs the selection to `P/<slug>/`.
#[derive(Debug, Clone, Copy)]
pub struct BulkAction {
    pub slug: &'static str,
    pub label: &'static str,
}

/// A detail tab: rows of `model` matching `filter=<object id>` (and the
/// fixed filters `also`).
#[derive(Debug, Clone, Copy)]
pub struct FilterTab {
    pub slug: &'static str,
    pub label: &'static str,
    pub model: &'static str,
    pub filter: &'static str,
    pub also: &'static [(&'static str, &'static str)],
    /// The add form's parameter that takes the object id ("+ Add" on the tab).
    pub add: Option<&'static str>,
}

const DEFAULT: Meta = Meta {
    label: "",
    path: None,
    columns: &[],
    counts: &[],
    link: None,
    detail: true,
    add: true,
    list: true,
    form_exclude: &[],
    title: None,
    delete: true,
    display_columns: &["name"],
    tabs: &[],
    bulk_actions: &[],
    context: &[],
    form_only: &[],
    narrow: &[],
};

const AS_DIRECT: Count =
    count("directpeeringsession_count", "Direct sessions", "peering.directpeeringsession", "autonomous_system");
const AS_IXP: Count = count(
    "internetexchangepeeringsession_count",
    "IX sessions",
    "peering.internetexchangepeeringsession",
    "autonomous_system",
);

pub static METAS: &[Meta] = &[
    Meta {
        label: "peering.autonomoussystem",
        columns: &["asn", "name", "irr_as_set", "directpeeringsession_count", "internetexchangepeeringsession_count"],
        counts: &[AS_DIRECT, AS_IXP],
        link: Some("asn"),
        display_columns: &["asn", "name"],
        bulk_actions: &[BulkAction { slug: "sync-with-peeringdb", label: "Synchronise with PeeringDB" }],
        ..DEFAULT
    },
    Meta {
        label: "peering.bgpgroup",
        columns: &["name", "status", "directpeeringsession_count"],
        counts: &[count("directpeeringsession_count", "Sessions", "peering.directpeeringsession", "bgp_group")],
        ..DEFAULT
    },
    Meta {
        label: "peering.directpeeringsession",
        columns: &[
            "local_autonomous_system",
            "autonomous_system",
            "bgp_group",
            "relationship",
            "ip_address",
            "status",
            "router",
            "connection",
        ],
        link: Some("ip_address"),
        display_columns: &["relationship", "autonomous_system", "ip_address"],
        context: &[("on", "router")],
        form_exclude: POLLED,
        narrow: &[("connection", "router", "router_id")],
        ..DEFAULT
    },
    Meta {
        label: "peering.internetexchange",
        columns: &["name", "local_autonomous_system", "status", "connection_count"],
        counts: &[count("connection_count", "Connections", "net.connection", "internet_exchange_point")],
        form_exclude: &["peeringdb_ixlan"],
        tabs: &[FilterTab {
            slug: "peering-sessions",
            label: "Peering sessions",
            model: "peering.internetexchangepeeringsession",
            filter: "internet_exchange_id",
            also: &[],
            add: Some("internet_exchange"),
        }],
        ..DEFAULT
    },
    Meta {
        label: "peering.internetexchangepeeringsession",
        columns: &["autonomous_system", "ixp_connection", "ip_address", "status", "is_route_server"],
        link: Some("ip_address"),
        display_columns: &["autonomous_system", "ixp_connection", "ip_address"],
        context: &[("on", "ixp_connection.router")],
        form_exclude: POLLED,
        form_only: &[form_picker("internet_exchange", "peering.internetexchange", "Internet exchange")],
        narrow: &[("ixp_connection", "internet_exchange", "internet_exchange_point_id")],
        ..DEFAULT
    },
    Meta { label: "peering.routingpolicy", columns: &["name", "type", "weight", "address_family"], ..DEFAULT },
    Meta { label: "bgp.community", columns: &["name", "value", "type"], ..DEFAULT },
    Meta { label: "bgp.relationship", columns: &["name", "slug", "description", "color"], ..DEFAULT },
    Meta {
        label: "net.bfd",
        columns: &[
            "name",
            "minimum_transmit_interval",
            "minimum_receive_interval",
            "detection_multiplier",
            "hold_time",
        ],
        ..DEFAULT
    },
    Meta {
        label: "net.connection",
        columns: &["name", "status", "vlan", "ipv6_address", "ipv4_address", "internet_exchange_point", "router"],
        form_exclude: &["peeringdb_netixlan"],
        display_columns: &["internet_exchange_point", "router", "interface"],
        ..DEFAULT
    },
    Meta { label: "devices.configuration", columns: &["name", "updated"], ..DEFAULT },
    Meta {
        label: "devices.platform",
        path: Some("/devices/platforms/"),
        columns: &["name", "router_count", "napalm_driver", "password_algorithm", "description"],
        counts: &[count("router_count", "Routers", "devices.router", "platform")],
        ..DEFAULT
    },
    Meta {
        label: "devices.router",
        columns: &[
            "name",
            "hostname",
            "platform",
            "status",
            "encrypt_passwords",
            "poll_bgp_sessions_state",
            "configuration_template",
            "connection_count",
        ],
        counts: &[count("connection_count", "Connections", "net.connection", "router")],
        tabs: &[FilterTab {
            slug: "jobs",
            label: "Jobs",
            model: "core.job",
            filter: "object_id",
            also: &[("object_type", "devices.router")],
            add: None,
        }],
        ..DEFAULT
    },
    Meta {
        label: "messaging.contact",
        columns: &["name", "assignment_count", "title", "phone", "email"],
        counts: &[count("assignment_count", "Assignments", "messaging.contactassignment", "contact")],
        ..DEFAULT
    },
    Meta { label: "messaging.contactrole", columns: &["name", "description"], ..DEFAULT },
    Meta {
        label: "messaging.contactassignment",
        path: Some("/messaging/contact-assignments/"),
        columns: &["content_type", "object", "contact", "role"],
        link: Some("contact"),
        detail: false,
        list: false,
        display_columns: &["contact"],
        ..DEFAULT
    },
    Meta { label: "messaging.email", columns: &["name", "subject", "updated"], ..DEFAULT },
    Meta { label: "extras.configcontext", columns: &["name", "description", "is_active"], ..DEFAULT },
    Meta {
        label: "extras.configcontextassignment",
        path: Some("/extras/config-context-assignments/"),
        columns: &["content_type", "object", "config_context", "weight"],
        link: Some("config_context"),
        detail: false,
        list: false,
        display_columns: &["config_context"],
        ..DEFAULT
    },
    Meta {
        label: "extras.exporttemplate",
        columns: &["name", "content_type", "description", "jinja2_trim", "jinja2_lstrip"],
        ..DEFAULT
    },
    Meta { label: "extras.ixapi", columns: &["name", "api_url", "identity"], ..DEFAULT },
    Meta {
        label: "extras.journalentry",
        columns: &["created", "created_by", "assigned_object_type", "assigned_object", "kind", "comments"],
        link: Some("created"),
        display_columns: &["created", "kind"],
        ..DEFAULT
    },
    Meta {
        label: "extras.tag",
        columns: &["name", "slug", "color", "tagged_items"],
        display_columns: &["name", "slug", "color"],
        ..DEFAULT
    },
    Meta {
        label: "core.objectchange",
        columns: &["time", "user_name", "action", "changed_object_type", "changed_object", "request_id"],
        link: Some("time"),
        add: false,
        title: Some("Change Log"),
        delete: false,
        display_columns: &["changed_object_type", "action", "object_repr", "user_name"],
        ..DEFAULT
    },
    Meta {
        label: "core.job",
        columns: &["object_type", "name", "status", "created", "started", "completed", "user"],
        link: Some("name"),
        add: false,
        display_columns: &["job_id", "name"],
        ..DEFAULT
    },
    Meta {
        label: "core.jobschedule",
        path: Some("/core/job-schedules/"),
        columns: &["name", "enabled", "interval_seconds", "cron", "last_run", "next_run", "last_job"],
        title: Some("Job Schedules"),
        ..DEFAULT
    },
];

/// "on edge1": the declared context of an object (its related objects must be
/// loaded, see `list::context_deps`); empty when it has none.
pub fn context(v: &pm_db::object::View<'_>) -> String {
    let mut out = vec![];
    for (word, path) in meta(v.obj.model).context {
        let mut cur = Some(*v);
        for hop in path.split('.') {
            cur = cur.and_then(|c| c.related(hop));
        }
        if let Some(target) = cur {
            out.push(format!("{word} {}", target.display()));
        }
    }
    out.join(" ")
}

/// An object's display followed by its context ("… on edge1").
pub fn display_in_context(v: &pm_db::object::View<'_>) -> String {
    let ctx = context(v);
    if ctx.is_empty() { v.display() } else { format!("{} {ctx}", v.display()) }
}

/// The UI metadata of a model (defaults when it has none).
pub fn meta(model: &Model) -> Meta {
    let label = model.label();
    METAS
        .iter()
        .find(|m| m.label == label)
        .copied()
        // A model without an entry may show anything: read all its light columns.
        .unwrap_or(Meta { display_columns: &[], ..DEFAULT })
}

/// The model's UI prefix (`/autonomous-systems/`), if it has pages.
pub fn ui_path(model: &Model) -> Option<&'static str> {
    model.ui.or_else(|| meta(model).path)
}

/// Models with pages, in registry order.
pub fn ui_models() -> impl Iterator<Item = &'static Model> {
    registry::MODELS.iter().copied().filter(|m| ui_path(m).is_some())
}

/// The page of one object, when it has one.
pub fn object_url(model: &Model, id: i64) -> Option<String> {
    let m = meta(model);
    let path = ui_path(model)?;
    if m.detail {
        Some(format!("{path}{id}/"))
    } else if m.list {
        Some(format!("{path}?id={id}"))
    } else {
        None
    }
}

/// Title case for headings: "autonomous systems" → "Autonomous systems".
pub fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub struct NavItem {
    pub label: &'static str,
    pub url: &'static str,
    pub staff: bool,
}

pub struct NavGroup {
    pub label: &'static str,
    pub icon: &'static str,
    pub items: &'static [NavItem],
}

const fn item(label: &'static str, url: &'static str) -> NavItem {
    NavItem { label, url, staff: false }
}

/// The sidebar (spec §9.1). Entries whose pages do not exist yet are left
/// out when the menu is drawn (`nav_available`), so they appear by themselves
/// once their model is declared.
pub static NAV: &[NavGroup] = &[
    NavGroup {
        label: "Peering",
        icon: "peering",
        items: &[
            item("Autonomous Systems", "/autonomous-systems/"),
            item("BGP Groups", "/bgp-groups/"),
            item("Internet Exchanges", "/internet-exchanges/"),
            item("Direct Sessions", "/direct-peering-sessions/"),
            item("IXP Sessions", "/internet-exchange-peering-sessions/"),
        ],
    },
    NavGroup {
        label: "Provisioning",
        icon: "provisioning",
        items: &[
            item("Available IXP Peers", "/peeringdb/available-ixp-peers/"),
            item("Hidden Peers", "/peeringdb/hidden-peers/"),
        ],
    },
    NavGroup {
        label: "Network",
        icon: "network",
        items: &[item("Connections", "/net/connections/"), item("BFD", "/net/bfd/")],
    },
    NavGroup {
        label: "Policy Options",
        icon: "policy",
        items: &[item("Communities", "/bgp/communities/"), item("Routing Policies", "/routing-policies/")],
    },
    NavGroup {
        label: "Devices",
        icon: "devices",
        items: &[
            item("Configurations", "/devices/configurations/"),
            item("Routers", "/devices/routers/"),
            item("Platforms", "/devices/platforms/"),
        ],
    },
    NavGroup {
        label: "Messaging",
        icon: "messaging",
        items: &[
            item("Contacts", "/messaging/contacts/"),
            item("Contact Roles", "/messaging/contact-roles/"),
            item("E-mails", "/messaging/emails/"),
        ],
    },
    NavGroup {
        label: "3rd Party",
        icon: "thirdparty",
        items: &[item("IX-API", "/extras/ix-api/"), item("PeeringDB", "/peeringdb/")],
    },
    NavGroup {
        label: "Operations",
        icon: "operations",
        items: &[
            item("Data Sources", "/core/data-sources/"),
            item("Jobs", "/core/jobs/"),
            item("Job Schedules", "/core/job-schedules/"),
            item("Webhooks", "/extras/webhooks/"),
            item("Journal Entries", "/extras/journal-entries/"),
            item("Change Log", "/core/changelog/"),
        ],
    },
    NavGroup {
        label: "Customisation",
        icon: "custom",
        items: &[
            item("Relationships", "/bgp/relationships/"),
            item("Config Contexts", "/extras/config-contexts/"),
            item("Export Templates", "/extras/export-templates/"),
            item("Tags", "/extras/tags/"),
        ],
    },
    NavGroup {
        label: "Admin",
        icon: "admin",
        items: &[
            NavItem { label: "System", url: "/core/system/", staff: true },
            NavItem { label: "Background Tasks", url: "/core/background-queues/", staff: true },
        ],
    },
];

/// Hand-written pages in the sidebar (the others are model lists).
const PAGES: &[&str] = &["/core/system/", "/core/background-queues/", "/peeringdb/", "/peeringdb/available-ixp-peers/"];

/// Global search order (spec §9.7), then what else is worth finding.
pub const SEARCH_ORDER: &[&str] = &[
    "peering.autonomoussystem",
    "peering.internetexchange",
    "peering.bgpgroup",
    "peering.directpeeringsession",
    "peering.internetexchangepeeringsession",
    "net.connection",
    "devices.router",
    "bgp.community",
    "peering.routingpolicy",
    "net.bfd",
    "devices.configuration",
    "messaging.contact",
    "messaging.email",
    "bgp.relationship",
    "devices.platform",
    "extras.tag",
    "extras.configcontext",
    "extras.exporttemplate",
    "extras.journalentry",
];

/// Page sizes offered (spec §9.3).
pub const PAGE_SIZES: &[u64] = &[25, 50, 100, 250, 500, 1000];

/// Shorter plural names for tabs and counters.
pub fn short_plural(model: &Model) -> String {
    match model.name {
        "directpeeringsession" => "Direct sessions".into(),
        "internetexchangepeeringsession" => "IX sessions".into(),
        "internetexchange" => "Internet exchanges".into(),
        "configcontextassignment" => "Config contexts".into(),
        _ => title(model.verbose_plural),
    }
}

/// Whether a sidebar entry has a page behind it.
pub fn nav_available(url: &str) -> bool {
    static PATHS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    PAGES.contains(&url)
        || PATHS.get_or_init(|| ui_models().filter(|m| meta(m).list).filter_map(ui_path).collect()).contains(&url)
}

#[cfg(test)]
mod tests {
    use pm_db::model::Kind;
    use pm_db::object::{Cache, Obj, Val, View};

    /// `display` reads only the declared columns: a row holding nothing else
    /// displays the same as a full one.
    #[test]
    fn display_columns_cover_what_display_reads() {
        for model in super::ui_models() {
            let declared = super::meta(model).display_columns;
            if declared.is_empty() {
                continue;
            }
            let mut full = Obj::new(model);
            full.id = 7;
            for (i, f) in model.columns().enumerate() {
                full.vals[i] = match f.kind {
                    Kind::Bool => Val::Bool(true),
                    Kind::DateTime => Val::Time(chrono::Utc::now()),
                    Kind::Choice(c) => Val::Text(c[c.len() - 1].value.to_string()),
                    k if pm_db::object::is_int_kind(&k) => Val::Int(3),
                    _ => Val::Text(format!("v-{}", f.name)),
                };
            }
            full.vals[0] = Val::Int(7);
            let mut light = full.clone();
            for (i, f) in model.columns().enumerate() {
                if f.name != "id" && !declared.contains(&f.name) {
                    light.vals[i] = Val::Null;
                }
            }
            let cache = Cache::default();
            assert_eq!(
                View::new(&full, &cache).display(),
                View::new(&light, &cache).display(),
                "{}: display reads a column outside {declared:?}",
                model.label()
            );
        }
    }
}
