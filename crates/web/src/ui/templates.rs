//! Page templates and static assets, embedded in the binary. With
//! `PM_UI_DEV_DIR=<crates/web>` set, both are read from disk on every request
//! instead, so template and CSS edits show up without a rebuild.

use std::sync::OnceLock;

use minijinja::Environment;
use pm_db::AppError;
use serde_json::Value as Json;

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

static TEMPLATES: &[(&str, &str)] = embed![
    "base.html",
    "macros.html",
    "login.html",
    "home.html",
    "list.html",
    "detail.html",
    "form.html",
    "delete.html",
    "bulk_edit.html",
    "bulk_delete.html",
    "import.html",
    "search.html",
    "error.html",
    "profile.html",
    "preferences.html",
    "password.html",
    "tokens.html",
    "token_add.html",
    "token_delete.html",
    "editor.html",
    "system.html",
    "background_tasks.html",
    "peeringdb.html",
    "peeringdb_sync.html",
    "peers.html",
    "available_peers.html",
    "peeringdb_import.html",
];

static ASSETS: &[(&str, &str, &str)] = &[
    ("pm.css", include_str!("../../static/pm.css"), "text/css; charset=utf-8"),
    ("pm.js", include_str!("../../static/pm.js"), "text/javascript; charset=utf-8"),
    ("favicon.svg", include_str!("../../static/favicon.svg"), "image/svg+xml"),
];

fn dev_dir() -> Option<String> {
    std::env::var("PM_UI_DEV_DIR").ok().filter(|d| !d.is_empty())
}

fn build(from_disk: Option<&str>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    for (name, src) in TEMPLATES {
        let src = match from_disk {
            Some(dir) => std::fs::read_to_string(format!("{dir}/templates/{name}")).unwrap_or_else(|_| src.to_string()),
            None => src.to_string(),
        };
        env.add_template_owned(*name, src).expect("template parses");
    }
    env
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| build(None))
}

pub fn render(name: &str, ctx: &Json) -> Result<String, AppError> {
    let value = minijinja::Value::from(minijinja::value::Serde(ctx));
    let result = match dev_dir() {
        Some(dir) => build(Some(&dir)).get_template(name).and_then(|t| t.render(value)),
        None => env().get_template(name).and_then(|t| t.render(value)),
    };
    result.map_err(|e| AppError::Internal(anyhow::anyhow!("template {name}: {e:#}")))
}

pub fn asset(name: &str) -> Option<(String, &'static str)> {
    let (_, body, mime) = ASSETS.iter().find(|(n, _, _)| *n == name)?;
    let body = dev_dir()
        .and_then(|d| std::fs::read_to_string(format!("{d}/static/{name}")).ok())
        .unwrap_or_else(|| body.to_string());
    Some((body, mime))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::build(None);
        for (name, _) in super::TEMPLATES {
            env.get_template(name).unwrap();
        }
    }
}
