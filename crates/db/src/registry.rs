//! The list of every model. A model's position is its content type id, so
//! ids are identical in every database; new models are appended, never inserted.

use crate::model::Model;
use crate::models::*;

pub static MODELS: &[&Model] = &[
    &peering::AUTONOMOUS_SYSTEM,
    &peering::BGP_GROUP,
    &peering::DIRECT_PEERING_SESSION,
    &peering::INTERNET_EXCHANGE,
    &peering::IXP_PEERING_SESSION,
    &peering::ROUTING_POLICY,
    &bgp::COMMUNITY,
    &bgp::RELATIONSHIP,
    &net::BFD,
    &net::CONNECTION,
    &devices::CONFIGURATION,
    &devices::PLATFORM,
    &devices::ROUTER,
    &messaging::CONTACT,
    &messaging::CONTACT_ASSIGNMENT,
    &messaging::CONTACT_ROLE,
    &messaging::EMAIL,
    &extras::CONFIG_CONTEXT,
    &extras::CONFIG_CONTEXT_ASSIGNMENT,
    &extras::EXPORT_TEMPLATE,
    &extras::IXAPI,
    &extras::JOURNAL_ENTRY,
    &extras::TAG,
    &core::JOB,
    &core::OBJECT_CHANGE,
    &users::GROUP,
    &users::USER,
    &users::OBJECT_PERMISSION,
    &users::TOKEN,
    &extras::WEBHOOK,
    &core::JOB_SCHEDULE,
    &peeringdb::ORGANIZATION,
    &peeringdb::CAMPUS,
    &peeringdb::FACILITY,
    &peeringdb::CARRIER,
    &peeringdb::CARRIER_FACILITY,
    &peeringdb::NETWORK,
    &peeringdb::NETWORK_CONTACT,
    &peeringdb::NETWORK_FACILITY,
    &peeringdb::INTERNET_EXCHANGE,
    &peeringdb::INTERNET_EXCHANGE_FACILITY,
    &peeringdb::IXLAN,
    &peeringdb::IXLAN_PREFIX,
    &peeringdb::NETWORK_IXLAN,
    &peeringdb::SYNCHRONISATION,
    &peeringdb::HIDDEN_PEER,
];

/// Apps in the order `/api/` lists them.
pub const APPS: &[&str] = &["bgp", "core", "devices", "extras", "messaging", "net", "peering", "peeringdb", "users"];

pub fn app_verbose(app: &str) -> &'static str {
    match app {
        "peering" => "Peering",
        "bgp" => "BGP",
        "net" => "Net",
        "devices" => "Devices",
        "messaging" => "Messaging",
        "extras" => "Extras",
        "core" => "Core",
        "users" => "Users",
        "peeringdb" => "PeeringDB",
        _ => "",
    }
}

/// By `app.model` label.
pub fn model(label: &str) -> Option<&'static Model> {
    let (app, name) = label.split_once('.')?;
    MODELS.iter().copied().find(|m| m.app == app && m.name == name)
}

/// By API location: `("peering", "autonomous-systems")`.
pub fn by_api(app: &str, api: &str) -> Option<&'static Model> {
    MODELS.iter().copied().find(|m| m.app == app && m.has_api() && m.api == api)
}

pub fn ct_id(model: &Model) -> i64 {
    MODELS.iter().position(|m| std::ptr::eq(*m, model)).map(|p| p as i64 + 1).expect("registered model")
}

pub fn by_ct_id(id: i64) -> Option<&'static Model> {
    usize::try_from(id - 1).ok().and_then(|i| MODELS.get(i).copied())
}

/// Models that point at `target` through a foreign key: (model, field).
pub fn referencing(target: &Model) -> Vec<(&'static Model, &'static crate::model::Field)> {
    let label = target.label();
    let mut out = Vec::new();
    for m in MODELS {
        for f in m.fields {
            if let crate::model::Kind::Fk { to, .. } = f.kind
                && to == label
            {
                out.push((*m, f));
            }
        }
    }
    out
}

/// Models with a generic relation (content type + object id) to any object:
/// deleting an object deletes these rows with it.
pub fn generic_dependents() -> [(&'static Model, &'static str, &'static str); 3] {
    [
        (&messaging::CONTACT_ASSIGNMENT, "content_type_id", "object_id"),
        (&extras::CONFIG_CONTEXT_ASSIGNMENT, "content_type_id", "object_id"),
        (&extras::JOURNAL_ENTRY, "assigned_object_type_id", "assigned_object_id"),
    ]
}
