//! Webhooks (spec §7): the dispatch job turns one write's events into one
//! delivery job per (object, webhook), in order per object; the delivery job
//! renders URL, headers and body, signs the body and sends it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use hmac::{Hmac, Mac};
use pm_db::load;
use pm_db::model::Model;
use pm_db::object::{Obj, Val};
use pm_db::registry;
use pm_db::webhooks::{DELIVER_JOB, DISPATCH_JOB, NewJob, conditions, insert_jobs, matching_webhooks};
use sea_query::{Condition, Expr, ExprTrait};
use serde_json::{Map, Value as Json, json};

use crate::{Failed, JobCtx, Registry, metrics};

pub const USER_AGENT: &str = "PeeringManager/1.1";

pub fn register(r: &mut Registry) {
    r.add(DISPATCH_JOB, dispatch);
    r.add(DELIVER_JOB, deliver);
    r.set_backoff(DELIVER_JOB, delivery_backoff);
}

/// A receiver that is briefly down (a restart, a deploy) gets the event within
/// seconds: retries start at one second (or the engine's base, if shorter),
/// then back off fourfold (1 s, 4 s, 16 s, 64 s, …, at most an hour).
pub fn delivery_backoff(config: &crate::EngineConfig, attempt: i64) -> std::time::Duration {
    let first = config.retry_base.min(std::time::Duration::from_secs(1)).as_secs_f64();
    let factor = 4f64.powi((attempt - 1).clamp(0, 10) as i32);
    std::time::Duration::from_secs_f64((first * factor).min(3600.0))
}

fn webhook_model() -> &'static Model {
    registry::model("extras.webhook").expect("extras.webhook is registered")
}

async fn load_webhooks(db: &pm_db::Db, ids: &[i64]) -> anyhow::Result<Vec<Obj>> {
    let cond = Condition::all().add(Expr::col("id").is_in(ids.to_vec()));
    Ok(load::fetch(&db.conn, webhook_model(), cond, &[("id", false)], None, 0).await?)
}

/// `extras.webhook.dispatch`: payload from `pm_db::webhooks::queue_events`.
async fn dispatch(ctx: JobCtx) -> anyhow::Result<()> {
    let p = &ctx.payload;
    let label = p["model"].as_str().unwrap_or_default();
    let model = registry::model(label).ok_or_else(|| anyhow::anyhow!("unknown model {label}"))?;
    let event = p["event"].as_str().unwrap_or("update").to_string();
    let request_id = p["request_id"].as_str().unwrap_or_default().to_string();
    let objects = p["objects"].as_array().cloned().unwrap_or_default();
    let ids: Vec<i64> = objects.iter().filter_map(|o| o["id"].as_i64()).collect();
    let hooks = load_webhooks(&ctx.db, &matching_webhooks(&ctx.db.conn, model, &event).await?).await?;
    ctx.info(&format!("{} {event} event(s) of {label}, {} webhook(s).", ids.len(), hooks.len()));
    if hooks.is_empty() {
        return Ok(());
    }
    let ct = registry::ct_id(model);
    let wct = registry::ct_id(webhook_model());
    let mut jobs = Vec::new();
    let (mut skipped, mut gone) = (0, 0);
    for o in &objects {
        let Some(id) = o["id"].as_i64() else { continue };
        // The object as it was at this change, serialized in the writing
        // transaction (never re-read: it may have changed or gone since).
        let d = &o["data"];
        if d.is_null() {
            gone += 1;
            continue;
        }
        let (pre, post) = (o["prechange"].clone(), o["postchange"].clone());
        let mut context = Map::new();
        context.insert("event".into(), json!(event));
        context.insert("timestamp".into(), p["timestamp"].clone());
        context.insert("model".into(), json!(model.name));
        context.insert("username".into(), p["username"].clone());
        context.insert("request_id".into(), json!(request_id));
        context.insert("data".into(), d.clone());
        if !Json::is_null(&pre) || !Json::is_null(&post) {
            context.insert("snapshots".into(), json!({"prechange": pre, "postchange": post}));
        }
        for h in &hooks {
            if let Val::Json(cond) = h.get("conditions")
                && !Json::is_null(cond)
            {
                match conditions::eval(cond, d) {
                    Ok(true) => {}
                    Ok(false) => {
                        skipped += 1;
                        metrics::webhook_delivery("skipped");
                        continue;
                    }
                    Err(e) => {
                        ctx.warning(&format!("Webhook {}: conditions could not be evaluated: {e}", h.text("name")));
                        continue;
                    }
                }
            }
            jobs.push(NewJob {
                name: DELIVER_JOB.into(),
                object_type: Some(wct),
                object_id: Some(h.id),
                user_id: ctx.user_id,
                payload: json!({"webhook": h.id, "context": Json::Object(context.clone())}),
                run_at_ms: 0,
                max_attempts: ctx.config.webhook_attempts,
                serial_key: Some(format!("webhook:{}:{ct}:{id}", h.id)),
            });
        }
    }
    let w = ctx.db.begin_write().await?;
    let n = insert_jobs(&w.txn, &jobs).await?.len();
    w.commit().await?;
    ctx.queue.notify.notify_waiters();
    if skipped > 0 {
        ctx.info(&format!("{skipped} event(s) did not match the webhook conditions."));
    }
    if gone > 0 {
        ctx.warning(&format!("{gone} event(s) carried no object data (queued by an older version); not sent."));
    }
    ctx.success(&format!("Queued {n} delivery job(s)."));
    Ok(())
}

/// Python `json.dumps(obj)`: `", "` and `": "` separators, non-ASCII escaped.
pub fn python_json(v: &Json) -> String {
    let mut out = String::new();
    write_py(v, &mut out);
    out
}

fn write_py(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                pm_domain::text::push_python_json_str(k, out);
                out.push_str(": ");
                write_py(v, out);
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py(v, out);
            }
            out.push(']');
        }
        Json::String(s) => pm_domain::text::push_python_json_str(s, out),
        other => out.push_str(&other.to_string()),
    }
}

/// Hex HMAC-SHA512 of the body with the secret as key.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Render a webhook template with the event context (Jinja2, spec §7.4), as
/// the user whose change fired it (what it includes is limited to their view).
async fn render(ctx: &JobCtx, name: &str, source: &str, context: &Json) -> Result<String, String> {
    if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
        return Ok(source.to_string());
    }
    let viewer = pm_render::Viewer::of_job(&ctx.db, ctx.user_id).await.map_err(|e| e.to_string())?;
    pm_render::render_text(&ctx.db, &viewer, name, source, context).await.map_err(|e| e.to_string())
}

type ClientKey = (bool, Option<String>);

fn client(verify: bool, ca: Option<&str>) -> anyhow::Result<reqwest::Client> {
    static CLIENTS: OnceLock<Mutex<HashMap<ClientKey, reqwest::Client>>> = OnceLock::new();
    let key = (verify, ca.map(str::to_string));
    let mut map = CLIENTS.get_or_init(Default::default).lock().unwrap();
    if let Some(c) = map.get(&key) {
        return Ok(c.clone());
    }
    crate::install_crypto();
    let mut b = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(32);
    if !verify {
        b = b.tls_danger_accept_invalid_certs(true);
    } else if let Some(path) = ca {
        let pem = pm_db::webhooks::read_ca_file(path).map_err(|e| anyhow::anyhow!(e))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)?;
        b = b.tls_certs_only(certs);
    }
    let c = b.build()?;
    map.insert(key, c.clone());
    Ok(c)
}

fn excerpt(text: &str) -> String {
    let t: String = text.chars().take(500).collect();
    if t.len() < text.len() { format!("{t}…") } else { t }
}

/// `extras.webhook.deliver`: `{"webhook": id, "context": {...}}`.
async fn deliver(ctx: JobCtx) -> anyhow::Result<()> {
    let id = ctx.payload["webhook"].as_i64().unwrap_or_default();
    let context = ctx.payload["context"].clone();
    let Some(hook) = load_webhooks(&ctx.db, &[id]).await?.pop() else {
        ctx.warning(&format!("Webhook {id} no longer exists; nothing sent."));
        return Ok(());
    };
    let name = hook.text("name").to_string();
    let url = render(&ctx, "payload_url", hook.text("payload_url"), &context)
        .await
        .map_err(|e| Failed(format!("URL template: {e}")))?;
    let mut headers: Vec<(String, String)> = vec![
        ("User-Agent".into(), USER_AGENT.into()),
        ("Content-Type".into(), hook.text("http_content_type").to_string()),
    ];
    let extra = render(&ctx, "additional_headers", hook.text("additional_headers"), &context)
        .await
        .map_err(|e| Failed(format!("Headers template: {e}")))?;
    for line in extra.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once(':').ok_or_else(|| Failed(format!("Invalid header line (no \":\"): {line}")))?;
        let k = k.trim().to_string();
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
        headers.push((k, v.trim().to_string()));
    }
    let body = if hook.text("body_template").trim().is_empty() {
        python_json(&context)
    } else {
        render(&ctx, "body_template", hook.text("body_template"), &context)
            .await
            .map_err(|e| Failed(format!("Body template: {e}")))?
    };
    let secret = hook.text("secret");
    if !secret.is_empty() {
        headers.push(("X-Hook-Signature".into(), signature(secret, body.as_bytes())));
    }
    let method = reqwest::Method::from_bytes(hook.text("http_method").as_bytes()).unwrap_or(reqwest::Method::POST);
    let ca = Some(hook.text("ca_file_path")).filter(|s| !s.is_empty());
    let client = client(hook.bool("ssl_verification"), ca).map_err(|e| Failed(e.to_string()))?;
    let mut req = client.request(method.clone(), &url).body(body);
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    ctx.info(&format!("Webhook {name}: {method} {url} (attempt {} of {}).", ctx.attempt, ctx.max_attempts));
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            ctx.output(&format!("{} {}", status.as_u16(), excerpt(&text)));
            if status.is_success() {
                metrics::webhook_delivery("success");
                ctx.success(&format!("Delivered: HTTP {}.", status.as_u16()));
                Ok(())
            } else {
                metrics::webhook_delivery("failure");
                Err(Failed(format!("HTTP {}: {}", status.as_u16(), excerpt(&text))).into())
            }
        }
        Err(e) => {
            metrics::webhook_delivery("failure");
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            ctx.output(&msg);
            Err(Failed(format!("Request failed: {msg}")).into())
        }
    }
}

/// A sample event for the "test" action: `{"event": "test", …, "data": {id, name}}`.
pub fn test_job(webhook_id: i64, webhook_name: &str, user_id: Option<i64>, username: &str) -> NewJob {
    let context = json!({
        "event": "test",
        "timestamp": pm_db::webhooks::python_timestamp(&chrono::Utc::now()),
        "model": "webhook",
        "username": username,
        "request_id": uuid::Uuid::new_v4().to_string(),
        "data": {"id": webhook_id, "name": webhook_name, "message": "Test event sent by Peering Manager."},
    });
    NewJob {
        name: DELIVER_JOB.into(),
        object_type: Some(registry::ct_id(webhook_model())),
        object_id: Some(webhook_id),
        user_id,
        payload: json!({"webhook": webhook_id, "context": context}),
        run_at_ms: 0,
        max_attempts: 1,
        serial_key: None,
    }
}
