//! What templates see: model instances (`Item`) and querysets (`Set`),
//! read-only views over the graph. Only declared fields and a whitelist of
//! methods are reachable, and nothing writes.

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use pm_db::model::{Computed, Kind, Model};
use pm_db::object::{Obj, Val};
use pm_db::registry;

use crate::graph::{Graph, leak};

pub fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// One row, as a template object.
pub struct Item {
    pub graph: Arc<Graph>,
    pub obj: Arc<Obj>,
}

/// Several rows of one model, in order (a queryset, or a related manager).
pub struct Set {
    pub graph: Arc<Graph>,
    pub model: &'static Model,
    pub ids: Vec<i64>,
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}: {}>", self.obj.model.name, self.obj.id)
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<QuerySet {} {:?}>", self.model.name, self.ids)
    }
}

pub fn item(graph: &Arc<Graph>, obj: Arc<Obj>) -> Value {
    Value::from_object(Item { graph: graph.clone(), obj })
}

pub fn set(graph: &Arc<Graph>, model: &'static Model, ids: Vec<i64>) -> Value {
    // Rows the viewer may not see are not in any set (nor its count).
    Value::from_object(Set { graph: graph.clone(), model, ids: graph.drop_hidden(model, ids) })
}

pub fn model(label: &str) -> &'static Model {
    registry::model(label).expect("known model")
}

pub fn json_value(j: &serde_json::Value) -> Value {
    if j.is_null() { Value::from(()) } else { Value::from(minijinja::value::Serde(j)) }
}

impl Item {
    pub fn model(&self) -> &'static Model {
        self.obj.model
    }

    pub fn is(&self, label: &str) -> bool {
        self.obj.model.label() == label
    }

    pub fn related(&self, field: &str) -> Result<Option<Item>, Error> {
        Ok(self.graph.related(&self.obj, leak(field))?.map(|o| Item { graph: self.graph.clone(), obj: o }))
    }

    pub fn text(&self, field: &str) -> &str {
        self.obj.text(field)
    }

    pub fn field(&self, name: &str) -> Result<Option<Value>, Error> {
        let g = &self.graph;
        if name == "pk" {
            return Ok(Some(Value::from(self.obj.id)));
        }
        if let Some(v) = self.property(name)? {
            return Ok(Some(v));
        }
        let Some(f) = self.obj.model.field(name) else { return Ok(None) };
        let v = self.obj.get(name);
        Ok(Some(match f.kind {
            Kind::Fk { .. } => match g.related(&self.obj, f.name)? {
                Some(o) => item(g, o),
                None => Value::from(()),
            },
            Kind::M2m { .. } => {
                let (target, ids) = g.m2m(&self.obj, f.name)?;
                set(g, target, ids)
            }
            Kind::Tags => set(g, model("extras.tag"), g.tags(&self.obj)?),
            Kind::ContentType => {
                v.as_int().and_then(registry::by_ct_id).map(|m| Value::from(m.label())).unwrap_or_default()
            }
            Kind::ContentTypes { .. } => Value::from(()),
            Kind::Computed(Computed::ConfigContext) => json_value(&g.config_context(&self.obj)?),
            Kind::Computed(Computed::CommunityKind) => {
                pm_domain::community::kind_of(self.text("value")).map(|k| Value::from(k.as_str())).unwrap_or_default()
            }
            Kind::Computed(Computed::Display) => Value::from(g.display(&self.obj)?),
            Kind::Computed(Computed::PeeringdbPrefixes) => json_value(&crate::peeringdb::ixp_prefixes(self)?),
            Kind::Computed(Computed::ExistsInPeeringdb) => Value::from(crate::peeringdb::session_flag(self, false)?),
            Kind::Computed(Computed::IsAbandoned) => Value::from(crate::peeringdb::session_flag(self, true)?),
            Kind::Computed(_) => Value::from(()),
            // Stored as Peering Manager prints it (netaddr's unix-expanded dialect).
            Kind::Mac => v.as_str().map(Value::from).unwrap_or(Value::from(())),
            // The cache keeps PeeringDB's bare hosts; Django's inet prints them with their length.
            Kind::Inet { prefix: true } if v.as_str().is_some_and(|s| !s.contains('/')) => {
                let s = v.as_str().unwrap_or("");
                let full = format!("{s}/{}", if s.contains(':') { 128 } else { 32 });
                crate::ip::Ip::parse(&full).map(crate::ip::Ip::value).unwrap_or(Value::from(full))
            }
            // Addresses are Python ipaddress objects (`.ip`, `.network`, `.version`…).
            Kind::Inet { .. } => match v.as_str() {
                Some(s) => crate::ip::Ip::parse(s).map(crate::ip::Ip::value).unwrap_or(Value::from(s)),
                None => Value::from(()),
            },
            _ => match v {
                Val::Null => Value::from(()),
                Val::Int(i) => Value::from(*i),
                Val::Float(x) => Value::from(*x),
                Val::Bool(b) => Value::from(*b),
                Val::Text(s) => Value::from(s.as_str()),
                Val::Time(t) => crate::datetime::PyDateTime::value(*t),
                Val::Json(j) => json_value(j),
            },
        }))
    }

    /// Properties Peering Manager's models define beyond their columns.
    fn property(&self, name: &str) -> Result<Option<Value>, Error> {
        let m = self.obj.model;
        Ok(match (m.name, name) {
            (_, "config_context") if m.features.config_context => {
                Some(json_value(&self.graph.config_context(&self.obj)?))
            }
            ("directpeeringsession" | "internetexchangepeeringsession", "enabled") => {
                Some(Value::from(self.text("status") == "enabled"))
            }
            ("autonomoussystem", "is_private") => {
                Some(Value::from(pm_domain::asn::is_private(self.obj.int("asn").unwrap_or(0))))
            }
            ("autonomoussystem", "peeringdb_network") => {
                Some(crate::peeringdb::network_of(self)?.map(Value::from_object).unwrap_or(Value::from(())))
            }
            ("autonomoussystem", "general_policy") => Some(
                crate::peeringdb::network_of(self)?
                    .map(|n| Value::from(n.text("policy_general").to_string()))
                    .unwrap_or(Value::from(())),
            ),
            ("autonomoussystem", "peeringdb_contacts") => {
                let m = model("peeringdb.networkcontact");
                let ids = match crate::peeringdb::network_of(self)? {
                    Some(n) => self.graph.query(
                        m,
                        sea_query::Condition::all()
                            .add(sea_query::ExprTrait::eq(sea_query::Expr::col("net_id"), n.obj.id)),
                    )?,
                    None => vec![],
                };
                Some(set(&self.graph, m, ids))
            }
            ("networkixlan", "cidr4") => Some(crate::peeringdb::netixlan_cidr(self, "ipaddr4")?),
            ("networkixlan", "cidr6") => Some(crate::peeringdb::netixlan_cidr(self, "ipaddr6")?),
            ("networkixlan", "is_remote_peer") => {
                let (n, i) = (self.obj.int("net_side"), self.obj.int("ix_side"));
                Some(Value::from(n.is_some() && i.is_some() && n != i))
            }
            ("internetexchange", "linked_to_peeringdb") => Some(Value::from(self.obj.int("peeringdb_ixlan").is_some())),
            // A property in Peering Manager: a connection of this IXP has a router.
            ("internetexchange", "has_connected_routers") => {
                Some(Value::from(crate::methods::connections(self)?.iter().any(|c| c.obj.int("router").is_some())))
            }
            ("connection", "linked_to_peeringdb") => Some(Value::from(self.obj.int("peeringdb_netixlan").is_some())),
            // The object's config-context assignments (weight, then context name).
            (_, "config_contexts") if m.features.config_context => {
                let a = model("extras.configcontextassignment");
                let ct = registry::ct_id(m);
                let ids = self.graph.query(
                    a,
                    sea_query::Condition::all()
                        .add(sea_query::ExprTrait::eq(sea_query::Expr::col("content_type_id"), ct))
                        .add(sea_query::ExprTrait::eq(sea_query::Expr::col("object_id"), self.obj.id)),
                )?;
                Some(set(&self.graph, a, ids))
            }
            ("autonomoussystem" | "internetexchange", "contacts") => {
                let a = model("messaging.contactassignment");
                let ct = registry::ct_id(m);
                let ids = self.graph.query(
                    a,
                    sea_query::Condition::all()
                        .add(sea_query::ExprTrait::eq(sea_query::Expr::col("content_type_id"), ct))
                        .add(sea_query::ExprTrait::eq(sea_query::Expr::col("object_id"), self.obj.id)),
                )?;
                Some(set(&self.graph, a, ids))
            }
            _ => None,
        })
    }
}

impl Object for Item {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        // Errors cannot be returned from here; a failed load reads as undefined
        // and the template error that follows names the attribute.
        self.field(name).ok().flatten()
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        crate::methods::call(self, state, method, args)
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<Item>()?;
        Some((self.obj.model.table, self.obj.id).cmp(&(other.obj.model.table, other.obj.id)))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if in_repr() {
            return write!(f, "<{}: {}>", class_name(self.obj.model), self.str());
        }
        f.write_str(&self.str())
    }
}

thread_local! {
    static REPR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while a container (list, dict, tuple) is printed: Python prints its
/// items with `repr()` (`[<RoutingPolicy: X>]`, `[IPv4Interface('…')]`),
/// while the object itself prints with `str()`.
pub fn in_repr() -> bool {
    REPR.with(|r| r.get())
}

/// `f()` with values printing as inside a container (their `repr()`).
pub fn with_repr<T>(f: impl FnOnce() -> T) -> T {
    let before = REPR.with(|r| r.replace(true));
    let out = f();
    REPR.with(|r| r.set(before));
    out
}

/// How `{{ value }}` prints, as Python's `str()`: containers show their
/// items' reprs, model instances and addresses their text.
pub fn format_value(out: &mut minijinja::Output, _: &mut State, value: &Value) -> Result<(), Error> {
    let container = matches!(value.kind(), minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map)
        && value.as_object().is_none_or(|o| {
            o.downcast_ref::<Set>().is_none()
                && o.downcast_ref::<Lazy>().is_none()
                && o.downcast_ref::<crate::ip::Ip>().is_none()
        });
    // A float (its text is not all digits): Python's repr, not Rust's.
    if value.kind() == minijinja::value::ValueKind::Number
        && !value.to_string().chars().all(|c| c.is_ascii_digit() || c == '-')
        && let Ok(f) = f64::try_from(value.clone())
    {
        return write!(out, "{}", py_float(f)).map_err(|e| err(e.to_string()));
    }
    if !container {
        return write!(out, "{value}").map_err(|e| err(e.to_string()));
    }
    REPR.with(|r| r.set(true));
    let done = write!(out, "{value}");
    REPR.with(|r| r.set(false));
    done.map_err(|e| err(e.to_string()))
}

/// Python's `repr(float)`: the shortest digits that read back the same,
/// in exponent form below 1e-4 and from 1e16 (`1e+16`, `1.5e-07`).
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    let sci = format!("{f:e}"); // shortest round-trip digits: "-1.5e-7"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        return if plain.contains('.') { plain } else { format!("{plain}.0") };
    }
    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

impl Item {
    /// Python `str()` of the model instance.
    pub fn str(&self) -> String {
        self.graph.display(&self.obj).unwrap_or_default()
    }
}

impl Set {
    pub fn items(&self) -> Result<Vec<Item>, Error> {
        self.graph.ensure(self.model, &self.ids)?;
        Ok(self
            .ids
            .iter()
            .filter_map(|id| self.graph.obj(self.model, *id))
            .map(|o| Item { graph: self.graph.clone(), obj: o })
            .collect())
    }

    pub fn with(&self, ids: Vec<i64>) -> Set {
        Set { graph: self.graph.clone(), model: self.model, ids }
    }

    /// `order_by('field', '-other')`: rows sorted by those fields (`-`: descending), stable.
    pub fn order_by(&self, fields: &[Value]) -> Result<Set, Error> {
        let mut rows: Vec<(Vec<Value>, i64)> = Vec::new();
        for it in self.items()? {
            let mut key = Vec::new();
            for f in fields {
                let name = f.as_str().unwrap_or("").trim_start_matches('-');
                key.push(it.field(name)?.unwrap_or(Value::from(())));
            }
            rows.push((key, it.obj.id));
        }
        rows.sort_by(|(a, _), (b, _)| {
            fields
                .iter()
                .zip(a.iter().zip(b))
                .map(|(f, (x, y))| if f.as_str().is_some_and(|n| n.starts_with('-')) { y.cmp(x) } else { x.cmp(y) })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(self.with(rows.into_iter().map(|(_, id)| id).collect()))
    }

    /// Keep rows matching Django-style keyword lookups (`slug="x"`, `asn__gt=5`).
    pub fn filter(&self, kwargs: &Kwargs, keep: bool) -> Result<Set, Error> {
        let mut ids = Vec::new();
        for it in self.items()? {
            let mut ok = true;
            for key in kwargs.args() {
                let want: Value = kwargs.get(key)?;
                if !crate::lookup::matches(&it, key, &want)? {
                    ok = false;
                    break;
                }
            }
            if ok == keep {
                ids.push(it.obj.id);
            }
        }
        Ok(self.with(ids))
    }
}

impl Object for Set {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let idx = key.as_i64()?;
        let len = self.ids.len() as i64;
        let idx = if idx < 0 { len + idx } else { idx };
        let id = *self.ids.get(usize::try_from(idx).ok()?)?;
        self.graph.get(self.model, id).ok().flatten().map(|o| item(&self.graph, o))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.items() {
            Ok(items) => Enumerator::Values(items.into_iter().map(Value::from_object).collect()),
            Err(_) => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.ids.len())
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let kwargs = || -> Result<Kwargs, Error> {
            Ok(args
                .iter()
                .find_map(|a| Kwargs::try_from(a.clone()).ok())
                .unwrap_or_else(|| Kwargs::from_iter(Vec::<(&str, Value)>::new())))
        };
        let first =
            |s: &Set| s.ids.first().and_then(|id| s.graph.get(s.model, *id).ok().flatten()).map(|o| item(&s.graph, o));
        Ok(match method {
            "all" => Value::from_object(self.with(self.ids.clone())),
            "filter" => Value::from_object(self.filter(&kwargs()?, true)?),
            "exclude" => Value::from_object(self.filter(&kwargs()?, false)?),
            "first" => first(self).unwrap_or(Value::from(())),
            "last" => {
                let rev = self.with(self.ids.iter().rev().copied().collect());
                first(&rev).unwrap_or(Value::from(()))
            }
            "count" => Value::from(self.ids.len()),
            "order_by" => Value::from_object(self.order_by(args)?),
            "exists" => Value::from(!self.ids.is_empty()),
            "get" => {
                let found = self.filter(&kwargs()?, true)?;
                match found.ids.len() {
                    1 => first(&found).unwrap_or(Value::from(())),
                    0 => return Err(err(format!("{} matching query does not exist.", self.model.verbose))),
                    _ => return Err(err(format!("get() returned more than one {}", self.model.verbose))),
                }
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = crate::objects::class_name(self.model);
        let inner: Vec<String> =
            self.items().unwrap_or_default().iter().map(|i| format!("<{name}: {}>", i.str())).collect();
        write!(f, "<QuerySet [{}]>", inner.join(", "))
    }
}

/// Django class names for reprs: `RoutingPolicy`, `AutonomousSystem`.
pub fn class_name(m: &Model) -> String {
    match m.name {
        "bgpgroup" => "BGPGroup".into(),
        "bfd" => "BFD".into(),
        "ixapi" => "IXAPI".into(),
        "internetexchangepeeringsession" => "InternetExchangePeeringSession".into(),
        _ => m
            .verbose
            .split([' ', '-'])
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
            })
            .collect(),
    }
}

/// Downcast a template value to a model instance.
pub fn as_item(v: &Value) -> Option<&Item> {
    v.downcast_object_ref::<Item>()
}

pub fn as_set(v: &Value) -> Option<&Set> {
    if let Some(lazy) = v.downcast_object_ref::<Lazy>() {
        return lazy.force().downcast_object_ref::<Set>();
    }
    v.downcast_object_ref::<Set>()
}

/// A list templates can `append` to. Jinja2 lists are mutable and Peering
/// Manager templates rely on it; minijinja's are not, so empty list literals
/// inside tags become one of these (see `env::rewrite_mutable_lists`).
#[derive(Debug, Default)]
pub struct MutList(std::sync::Mutex<Vec<Value>>);

impl MutList {
    pub fn new(items: Vec<Value>) -> MutList {
        MutList(std::sync::Mutex::new(items))
    }
    fn snapshot(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

impl Object for MutList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.0.lock().unwrap();
        let idx = key.as_i64()?;
        let idx = if idx < 0 { items.len() as i64 + idx } else { idx };
        items.get(usize::try_from(idx).ok()?).cloned()
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.lock().unwrap().len())
    }
    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut items = self.0.lock().unwrap();
        match (method, args) {
            ("append", [v]) => items.push(v.clone()),
            ("extend", [v]) => items.extend(v.try_iter()?),
            ("insert", [i, v]) => {
                let i = usize::try_from(i.as_i64().unwrap_or(0)).unwrap_or(0).min(items.len());
                items.insert(i, v.clone());
            }
            ("pop", []) => return Ok(items.pop().unwrap_or(Value::from(()))),
            ("count", [v]) => return Ok(Value::from(items.iter().filter(|x| *x == v).count())),
            ("index", [v]) => {
                return items.iter().position(|x| x == v).map(Value::from).ok_or_else(|| err("value is not in list"));
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(()))
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Value::from(self.snapshot()), f)
    }
}

/// A context value computed on first use (e.g. `routing_policies`, which
/// costs several queries that most templates never need).
pub struct Lazy {
    compute: Box<dyn Fn() -> Result<Value, Error> + Send + Sync>,
    value: std::sync::OnceLock<Value>,
}

impl fmt::Debug for Lazy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<lazy>")
    }
}

impl Lazy {
    pub fn value(compute: impl Fn() -> Result<Value, Error> + Send + Sync + 'static) -> Value {
        Value::from_object(Lazy { compute: Box::new(compute), value: std::sync::OnceLock::new() })
    }
    fn get(&self) -> Value {
        self.force().clone()
    }
    fn force(&self) -> &Value {
        self.value.get_or_init(|| (self.compute)().unwrap_or_else(|e| Value::from(format!("<error: {e}>"))))
    }
}

impl Object for Lazy {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get().get_item(key).ok().filter(|v| !v.is_undefined())
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.get().try_iter() {
            Ok(it) => Enumerator::Values(it.collect()),
            Err(_) => Enumerator::Empty,
        }
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.get().len()
    }
    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        self.get().call_method(state, method, args)
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn floats_print_as_python() {
        for (f, want) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e3, "1000.0"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e22, "1e+22"),
            (-0.0, "-0.0"),
            (0.000123, "0.000123"),
            (12345678.9, "12345678.9"),
            (2.5, "2.5"),
        ] {
            assert_eq!(super::py_float(f), want);
        }
    }
}
