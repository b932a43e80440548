//! `/api/schema/`: an OpenAPI 3 document generated from the model
//! declarations, so it cannot drift from what the endpoints do.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use pm_db::model::{Computed, Field, Kind, Lookups, Model};
use pm_db::query::filter;
use pm_db::registry;
use serde_json::{Map, Value as Json, json};

pub async fn schema() -> Response {
    static DOC: OnceLock<Json> = OnceLock::new();
    axum::Json(DOC.get_or_init(document).clone()).into_response()
}

/// `autonomous system` → `AutonomousSystem`, `BGP group` → `BGPGroup`.
fn schema_name(m: &Model) -> String {
    let name = plain_schema_name(m);
    // The PeeringDB mirror shares names with Peering Manager's own models.
    let taken = registry::MODELS.iter().any(|o| !o.is_mirror() && plain_schema_name(o) == name);
    if m.is_mirror() && taken { format!("PDB{name}") } else { name }
}

fn plain_schema_name(m: &Model) -> String {
    m.verbose
        .split([' ', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn field_schema(f: &Field, writable: bool) -> Json {
    let mut s = match f.kind {
        Kind::Id => json!({"type": "integer", "readOnly": true}),
        Kind::Int { min, max } => json!({"type": "integer", "format": "int64", "minimum": min, "maximum": max}),
        Kind::Float => json!({"type": "number"}),
        Kind::Text { max } => json!({"type": "string", "maxLength": max}),
        Kind::LongText | Kind::Mac | Kind::Uuid => json!({"type": "string"}),
        Kind::Inet { .. } => json!({"type": "string", "format": "ip-interface"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Choice(c) => {
            let values: Vec<&str> = c.iter().map(|c| c.value).collect();
            if f.choice_object && !writable {
                json!({"type": "object", "properties": {"value": {"type": "string", "enum": values}, "label": {"type": "string"}}})
            } else {
                json!({"type": "string", "enum": values})
            }
        }
        Kind::IntChoice(c) => json!({"type": "integer", "enum": c.iter().map(|(v, _)| *v).collect::<Vec<_>>()}),
        Kind::Json { object: true } => json!({"type": "object", "additionalProperties": true}),
        Kind::Json { object: false } => json!({}),
        Kind::IntList => json!({"type": "array", "items": {"type": "integer"}}),
        Kind::CidrList | Kind::StrList | Kind::MultiChoice | Kind::ContentTypes { .. } => {
            json!({"type": "array", "items": {"type": "string"}})
        }
        Kind::DateTime => json!({"type": "string", "format": "date-time"}),
        Kind::Fk { to, nested, .. } => match (writable, nested, registry::model(to)) {
            (false, true, Some(t)) => reference(&format!("Nested{}", schema_name(t))),
            _ => json!({"type": "integer", "description": "id, or an object of attributes identifying it"}),
        },
        Kind::M2m { to, .. } => match (writable, registry::model(to)) {
            (false, Some(t)) => json!({"type": "array", "items": reference(&format!("Nested{}", schema_name(t)))}),
            _ => json!({"type": "array", "items": {"type": "integer"}}),
        },
        Kind::ContentType => json!({"type": "string", "description": "app_label.model"}),
        Kind::Tags => match writable {
            false => json!({"type": "array", "items": reference("NestedTag")}),
            true => json!({"type": "array", "items": {"type": "integer"}}),
        },
        Kind::Computed(Computed::TaggedItems | Computed::UserCount) => json!({"type": "integer", "readOnly": true}),
        Kind::Computed(Computed::ExistsInPeeringdb | Computed::IsAbandoned | Computed::IsExpired) => {
            json!({"type": "boolean", "readOnly": true})
        }
        Kind::Computed(Computed::Display | Computed::CommunityKind | Computed::JobOutput) => {
            json!({"type": "string", "readOnly": true})
        }
        Kind::Computed(_) => json!({"readOnly": true}),
    };
    if f.null
        && let Json::Object(o) = &mut s
    {
        o.insert("nullable".into(), json!(true));
    }
    if f.read_only
        && let Json::Object(o) = &mut s
    {
        o.insert("readOnly".into(), json!(true));
    }
    s
}

fn object_schema(m: &'static Model, fields: Vec<&'static Field>, writable: bool, standard: bool) -> Json {
    let mut props = Map::new();
    if standard {
        props.insert("id".into(), json!({"type": "integer", "readOnly": true}));
        props.insert("url".into(), json!({"type": "string", "format": "uri", "readOnly": true}));
        if m.ui.is_some() {
            props.insert("display_url".into(), json!({"type": "string", "format": "uri", "readOnly": true}));
        }
        props.insert("display".into(), json!({"type": "string", "readOnly": true}));
    }
    let mut required = Vec::new();
    for f in fields {
        if f.name == "id" || (writable && !f.writable()) || (!writable && f.write_only) || !f.api {
            continue;
        }
        if writable && (f.required || f.key_required) {
            required.push(f.name);
        }
        props.insert(f.name.into(), field_schema(f, writable));
    }
    let mut s = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

fn parameters(m: &'static Model) -> Vec<Json> {
    let mut out = vec![
        json!({"name": "limit", "in": "query", "schema": {"type": "integer"}, "description": "Number of results to return per page (max 1000)."}),
        json!({"name": "offset", "in": "query", "schema": {"type": "integer"}}),
        json!({"name": "ordering", "in": "query", "schema": {"type": "string"}}),
        json!({"name": "brief", "in": "query", "schema": {"type": "boolean"}}),
        json!({"name": "fields", "in": "query", "schema": {"type": "string"}}),
        json!({"name": "exclude", "in": "query", "schema": {"type": "string"}}),
    ];
    if !m.search.is_empty() {
        out.push(json!({"name": "q", "in": "query", "schema": {"type": "string"}}));
    }
    if m.features.tags {
        out.push(json!({"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": true}));
    }
    let mut names: Vec<(&str, Lookups)> = filter::filters(m).values().map(|r| (r.name, r.lookups)).collect();
    names.sort_by_key(|(n, _)| *n);
    for (name, lookups) in names {
        let suffixes: &[&str] = match lookups {
            Lookups::Num => &["", "__n", "__lt", "__lte", "__gt", "__gte", "__empty"],
            Lookups::Str => {
                &["", "__n", "__ic", "__nic", "__isw", "__nisw", "__iew", "__niew", "__ie", "__nie", "__empty"]
            }
            Lookups::Rel => &["", "__n"],
            _ => &[""],
        };
        for s in suffixes {
            out.push(json!({"name": format!("{name}{s}"), "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": true}));
        }
    }
    out
}

fn document() -> Json {
    let mut schemas = Map::new();
    let mut paths = Map::new();
    for m in registry::MODELS.iter().copied().filter(|m| m.has_api()) {
        let name = schema_name(m);
        let all: Vec<&'static Field> = m.fields.iter().collect();
        let brief: Vec<&'static Field> =
            if m.is_mirror() { all.clone() } else { m.fields.iter().filter(|f| m.brief.contains(&f.name)).collect() };
        schemas.insert(name.clone(), object_schema(m, all.clone(), false, !m.is_mirror()));
        schemas.insert(format!("Nested{name}"), object_schema(m, brief, false, !m.is_mirror()));
        let op = format!("{}_{}", m.app, m.api.replace('-', "_"));
        let tag = json!([m.app]);
        let security = json!([{"tokenAuth": []}]);
        let ok = |schema: Json| json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
        let mut list = Map::new();
        list.insert(
            "get".into(),
            json!({"operationId": format!("{op}_list"), "tags": tag, "security": security, "parameters": parameters(m),
                "responses": {"200": ok(json!({"type": "object", "properties": {
                    "count": {"type": "integer"}, "next": {"type": "string", "nullable": true},
                    "previous": {"type": "string", "nullable": true},
                    "results": {"type": "array", "items": reference(&name)}}}))}}),
        );
        let mut detail = Map::new();
        let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        detail.insert(
            "get".into(),
            json!({"operationId": format!("{op}_retrieve"), "tags": tag, "security": security, "parameters": id_param, "responses": {"200": ok(reference(&name))}}),
        );
        if m.writable() {
            schemas.insert(format!("Writable{name}"), object_schema(m, all, true, false));
            let body = |s: Json| json!({"required": true, "content": {"application/json": {"schema": s}}});
            let writable = reference(&format!("Writable{name}"));
            let bulk = json!({"type": "array", "items": writable});
            list.insert("post".into(), json!({"operationId": format!("{op}_create"), "tags": tag, "security": security, "requestBody": body(json!({"oneOf": [writable, bulk]})), "responses": {"201": ok(reference(&name))}}));
            list.insert("put".into(), json!({"operationId": format!("{op}_bulk_update"), "tags": tag, "security": security, "requestBody": body(bulk.clone()), "responses": {"200": ok(json!({"type": "array", "items": reference(&name)}))}}));
            list.insert("patch".into(), json!({"operationId": format!("{op}_bulk_partial_update"), "tags": tag, "security": security, "requestBody": body(bulk.clone()), "responses": {"200": ok(json!({"type": "array", "items": reference(&name)}))}}));
            detail.insert("put".into(), json!({"operationId": format!("{op}_update"), "tags": tag, "security": security, "parameters": id_param, "requestBody": body(writable.clone()), "responses": {"200": ok(reference(&name))}}));
            detail.insert("patch".into(), json!({"operationId": format!("{op}_partial_update"), "tags": tag, "security": security, "parameters": id_param, "requestBody": body(writable), "responses": {"200": ok(reference(&name))}}));
        }
        if !m.read_only() {
            list.insert("delete".into(), json!({"operationId": format!("{op}_bulk_destroy"), "tags": tag, "security": security, "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}, "responses": {"204": {"description": "Deleted"}}}));
            detail.insert("delete".into(), json!({"operationId": format!("{op}_destroy"), "tags": tag, "security": security, "parameters": id_param, "responses": {"204": {"description": "Deleted"}}}));
        }
        paths.insert(m.api_list_path(), Json::Object(list));
        paths.insert(format!("{}{{id}}/", m.api_list_path()), Json::Object(detail));
    }
    paths.insert(
        "/api/users/userpref/".into(),
        json!({"get": {"operationId": "users_userpref_retrieve", "tags": ["users"], "responses": {"200": {"description": "The caller's preferences"}}},
               "patch": {"operationId": "users_userpref_partial_update", "tags": ["users"], "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}, "responses": {"200": {"description": "Merged preferences"}}}}),
    );
    // PeeringDB actions (crates/web/src/api/peeringdb.rs).
    let action = |op: &str, tag: &str, method: &str, code: &str, what: &str| json!({method: {"operationId": op, "tags": [tag], "security": [{"tokenAuth": []}], "responses": {code: {"description": what}}}});
    for (path, op, tag, method, code, what) in [
        (
            "/api/peeringdb/cache/statistics/",
            "peeringdb_cache_statistics",
            "peeringdb",
            "get",
            "200",
            "Objects per namespace (staff only)",
        ),
        (
            "/api/peeringdb/cache/update-local/",
            "peeringdb_cache_update_local",
            "peeringdb",
            "post",
            "202",
            "The synchronisation job (staff only)",
        ),
        (
            "/api/peeringdb/cache/clear-local/",
            "peeringdb_cache_clear_local",
            "peeringdb",
            "post",
            "200",
            "Cache emptied (staff only)",
        ),
        (
            "/api/peering/autonomous-systems/{id}/sync-with-peeringdb/",
            "peering_autonomous_systems_sync_with_peeringdb",
            "peering",
            "post",
            "200",
            "Synchronised (204: not in PeeringDB)",
        ),
        (
            "/api/peering/autonomous-systems/sync-with-peeringdb/",
            "peering_autonomous_systems_bulk_sync_with_peeringdb",
            "peering",
            "post",
            "200",
            "Counts of ASes updated, unchanged, private, not found, failed",
        ),
    ] {
        paths.insert(path.into(), action(op, tag, method, code, what));
    }
    paths.insert(
        "/api/status/".into(),
        json!({"get": {"operationId": "status_retrieve", "tags": ["status"], "responses": {"200": {"description": "Version and runtime information"}}}}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Peering Manager API", "version": super::PM_VERSION,
                 "description": "REST API of Peering Manager for Rust, wire-compatible with Peering Manager 1.10."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <40 hex characters>`"}}
        },
        "security": [{"tokenAuth": []}]
    })
}
