//! Objects → Peering Manager's JSON: full, brief (`?brief`) and nested
//! (embedded in another object) representations. Everything read here was
//! loaded by `load::prepare`, so rendering never touches the database.

use serde_json::{Map, Value as Json, json};

use crate::choices;
use crate::load::{Mode, fields_in};
use crate::model::{Computed, Field, Kind, Model};
use crate::object::{Cache, Obj, Val, View};
use crate::registry;

pub struct Render<'a> {
    /// Scheme and host for absolute URLs (`http://pm.example`); empty for relative ones.
    pub base: &'a str,
    pub cache: &'a Cache,
    /// Whether secret fields of this model may be shown to the caller.
    pub secrets: &'a dyn Fn(&'static Model) -> bool,
    /// Nested objects already rendered: a page of fifty ASes shares a handful
    /// of policies, communities and tags.
    pub nested_memo: std::cell::RefCell<std::collections::HashMap<(&'static str, i64), Json>>,
    /// Related objects the caller may not view (`load::hidden_related`):
    /// nested as `{"id": N}` only.
    pub hidden: std::collections::HashSet<(&'static str, i64)>,
}

impl<'a> Render<'a> {
    pub fn new(base: &'a str, cache: &'a Cache, secrets: &'a dyn Fn(&'static Model) -> bool) -> Self {
        Render { base, cache, secrets, nested_memo: Default::default(), hidden: Default::default() }
    }

    pub fn with_hidden(mut self, hidden: std::collections::HashSet<(&'static str, i64)>) -> Self {
        self.hidden = hidden;
        self
    }
}

pub fn api_url(base: &str, model: &Model, id: i64) -> String {
    format!("{base}/api/{}/{}/{id}/", model.app, model.api)
}

impl Render<'_> {
    pub fn object(&self, obj: &Obj, mode: Mode) -> Json {
        let model = obj.model;
        let view = View::new(obj, self.cache);
        let mut out = Map::new();
        if model.is_mirror() {
            // Plain serializers: the declared fields and nothing else.
            for f in fields_in(model, mode) {
                out.insert(f.name.into(), self.field(obj, f, mode));
            }
            return Json::Object(out);
        }
        out.insert("id".into(), json!(obj.id));
        out.insert("url".into(), json!(api_url(self.base, model, obj.id)));
        if let Some(ui) = model.ui
            && (mode == Mode::Full || model.brief_display_url)
        {
            out.insert("display_url".into(), json!(format!("{}{ui}{}/", self.base, obj.id)));
        }
        out.insert("display".into(), json!(view.display()));
        let secrets_ok = model.fields.iter().any(|f| f.secret) && (self.secrets)(model);
        for f in fields_in(model, mode) {
            if f.name == "id" || (f.secret && !secrets_ok) {
                continue;
            }
            out.insert(f.name.into(), self.field(obj, f, mode));
        }
        Json::Object(out)
    }

    fn nested(&self, model: &'static Model, id: Option<i64>) -> Json {
        let Some(id) = id else { return Json::Null };
        if let Some(v) = self.nested_memo.borrow().get(&(model.table, id)) {
            return v.clone();
        }
        let v = match self.cache.get(model, id) {
            Some(_) if self.hidden.contains(&(model.table, id)) => json!({"id": id}),
            Some(o) => self.object(o, Mode::Nested),
            None => Json::Null,
        };
        self.nested_memo.borrow_mut().insert((model.table, id), v.clone());
        v
    }

    fn field(&self, obj: &Obj, f: &'static Field, mode: Mode) -> Json {
        let v = obj.get(f.name);
        match f.kind {
            Kind::Choice(c) if f.choice_object && mode != Mode::Nested => match v {
                Val::Text(s) if !s.is_empty() => {
                    json!({"value": s, "label": choices::label(c, s).unwrap_or(s)})
                }
                _ => Json::Null,
            },
            Kind::Fk { to, nested: true, .. } => self.nested(registry::model(to).unwrap(), v.as_int()),
            Kind::ContentType => {
                v.as_int().and_then(registry::by_ct_id).map(|m| json!(m.label())).unwrap_or(Json::Null)
            }
            Kind::ContentTypes { table, .. } => {
                let ids = self.cache.m2m.get(&(table, obj.id)).cloned().unwrap_or_default();
                Json::Array(ids.into_iter().filter_map(registry::by_ct_id).map(|m| json!(m.label())).collect())
            }
            Kind::M2m { to, table, .. } => {
                let target = registry::model(to).unwrap();
                let ids = self.cache.m2m.get(&(table, obj.id)).cloned().unwrap_or_default();
                Json::Array(ids.into_iter().map(|id| self.nested(target, Some(id))).collect())
            }
            Kind::Tags => {
                let tag = registry::model("extras.tag").unwrap();
                let ids = self.cache.tags.get(&(registry::ct_id(obj.model), obj.id)).cloned().unwrap_or_default();
                Json::Array(ids.into_iter().map(|id| self.nested(tag, Some(id))).collect())
            }
            Kind::Computed(Computed::Display) => json!(View::new(obj, self.cache).display()),
            Kind::MultiChoice => match v {
                Val::Text(s) => Json::Array(s.split(',').filter(|p| !p.is_empty()).map(|p| json!(p)).collect()),
                _ => Json::Null,
            },
            // Interface addresses always carry their length; the PeeringDB
            // cache stores bare hosts as PeeringDB sends them.
            Kind::Inet { prefix: true } => match v {
                Val::Text(s) if !s.contains('/') => {
                    json!(format!("{s}/{}", if s.contains(':') { 128 } else { 32 }))
                }
                _ => v.to_json(),
            },
            Kind::Computed(Computed::GenericObject { type_field, id_field }) => {
                self.generic(obj.int(type_field), obj.int(id_field))
            }
            Kind::Computed(Computed::ChangedObject) => {
                self.generic(obj.int("changed_object_type"), obj.int("changed_object_id"))
            }
            Kind::Computed(_) => {
                self.cache.computed.get(&(obj.model.table, obj.id, f.name)).cloned().unwrap_or(Json::Null)
            }
            _ => v.to_json(),
        }
    }

    fn generic(&self, ct: Option<i64>, id: Option<i64>) -> Json {
        match ct.and_then(registry::by_ct_id) {
            Some(m) => self.nested(m, id),
            None => Json::Null,
        }
    }
}

/// `?fields=a,b` keeps only those keys; `?exclude=a,b` drops them.
pub fn select_fields(v: &mut Json, fields: Option<&[String]>, exclude: Option<&[String]>) {
    let Json::Object(map) = v else { return };
    if let Some(keep) = fields {
        map.retain(|k, _| keep.iter().any(|f| f == k));
    }
    if let Some(drop) = exclude {
        map.retain(|k, _| !drop.iter().any(|f| f == k));
    }
}
