//! The list of every model, and their content type ids.
//!
//! Content type ids live in `django_content_type`, keyed by `app_label.model`:
//! assigned once (a new model gets the next free id), never derived from the
//! order of this list, so a model can be inserted anywhere in it.

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
    &irr::IRR_CACHE,
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

/// The content type id of a model, as stored in the database.
pub fn ct_id(model: &Model) -> i64 {
    let pos = MODELS.iter().position(|m| std::ptr::eq(*m, model)).expect("registered model");
    content_types().ids[pos]
}

/// The model of a content type id; none before a database was read (code
/// that never opened one, such as unit tests, knows no ids).
pub fn by_ct_id(id: i64) -> Option<&'static Model> {
    CONTENT_TYPES.get()?.by_id.get(&id).map(|&pos| MODELS[pos])
}

/// Ids read from `django_content_type`, by registry position.
#[derive(Debug, PartialEq)]
struct ContentTypes {
    ids: Vec<i64>,
    by_id: std::collections::HashMap<i64, usize>,
}

static CONTENT_TYPES: std::sync::OnceLock<ContentTypes> = std::sync::OnceLock::new();

fn content_types() -> &'static ContentTypes {
    CONTENT_TYPES.get().expect("content types are read from the database by Db::migrate before any use")
}

/// Stored `(id, app_label, model)` rows of `django_content_type`.
async fn stored_content_types<C: sea_orm::ConnectionTrait>(db: &C) -> Result<Vec<(i64, String)>, sea_orm::DbErr> {
    let sql = "SELECT id, app_label, model FROM django_content_type ORDER BY id";
    let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await?;
    rows.iter()
        .map(|r| {
            let label = format!("{}.{}", r.try_get_by_index::<String>(1)?, r.try_get_by_index::<String>(2)?);
            Ok((r.try_get_by_index::<i64>(0)?, label))
        })
        .collect()
}

/// Content types to add for models the table does not know yet: the next
/// free ids, in registry order. Existing ids are never touched.
pub fn new_content_types(stored: &[(i64, String)], models: &[&'static Model]) -> Vec<(i64, &'static Model)> {
    let mut next = stored.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
    let mut out = Vec::new();
    for m in models {
        if !stored.iter().any(|(_, label)| *label == m.label()) {
            out.push((next, *m));
            next += 1;
        }
    }
    out
}

/// Give every registered model a row in `django_content_type`.
pub async fn sync_content_types<C: sea_orm::ConnectionTrait>(db: &C) -> Result<(), sea_orm::DbErr> {
    let stored = stored_content_types(db).await?;
    for (id, m) in new_content_types(&stored, MODELS) {
        let stmt = sea_query::Query::insert()
            .into_table("django_content_type")
            .columns(["id", "app_label", "model"])
            .values_panic([id.into(), m.app.into(), m.name.into()])
            .to_owned();
        db.execute(&stmt).await?;
    }
    Ok(())
}

/// Read the content type ids this process uses. One process serves one
/// database; a second database must agree (tests open many, all migrated
/// alike), since ids are cached for the process.
pub async fn load_content_types<C: sea_orm::ConnectionTrait>(db: &C) -> crate::AppResult<()> {
    let stored = stored_content_types(db).await?;
    let mut ids = Vec::with_capacity(MODELS.len());
    for m in MODELS {
        let label = m.label();
        let id = stored.iter().find(|(_, l)| *l == label).map(|(id, _)| *id);
        ids.push(id.ok_or_else(|| anyhow::anyhow!("content type {label} missing from django_content_type"))?);
    }
    let by_id = ids.iter().enumerate().map(|(pos, id)| (*id, pos)).collect();
    let mut fresh = Some(ContentTypes { ids, by_id });
    let loaded = CONTENT_TYPES.get_or_init(|| fresh.take().expect("first load"));
    if let Some(other) = fresh
        && other != *loaded
    {
        return Err(anyhow::anyhow!(
            "this database numbers content types differently from the one this process opened first"
        )
        .into());
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    // A model inserted in the middle of the registry gets the next free id;
    // every model the table knows keeps its id.
    #[test]
    fn new_models_get_the_next_free_id_wherever_they_are_declared() {
        let stored: Vec<(i64, String)> =
            MODELS.iter().enumerate().filter(|(i, _)| *i != 5).map(|(i, m)| (i as i64 + 1, m.label())).collect();
        let added = new_content_types(&stored, MODELS);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].0, MODELS.len() as i64 + 1);
        assert!(std::ptr::eq(added[0].1, MODELS[5]));
        assert!(
            new_content_types(&stored.iter().cloned().chain([(99, MODELS[5].label())]).collect::<Vec<_>>(), MODELS)
                .is_empty()
        );
    }
}
