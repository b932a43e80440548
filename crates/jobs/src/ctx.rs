//! What a running job sees: its arguments, the database, and its log
//! (Peering Manager's `data` layout, spec §5.12) with an optional progress.

use std::sync::{Arc, Mutex};

use pm_db::Db;
use serde_json::{Map, Value as Json, json};

use crate::{EngineConfig, SqlQueue};

/// Returned by a handler to mark its job `failed` (an expected failure:
/// "Connection failure.", a webhook answered 500), not `errored`.
#[derive(Debug)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// `{"main": {...}, "output": {...}, "total": {...}}` plus `progress`.
#[derive(Debug, Clone, Default)]
pub struct Log {
    data: Map<String, Json>,
}

const COUNTED: [&str; 4] = ["success", "info", "warning", "failure"];

impl Log {
    pub fn from_stored(v: Json) -> Log {
        match v {
            Json::Object(data) => Log { data },
            _ => Log::default(),
        }
    }

    fn counters() -> Json {
        json!({"success": 0, "info": 0, "warning": 0, "failure": 0})
    }

    /// Add a line to a grouping (`main` for status, `output` for raw output, level `default`).
    pub fn add(&mut self, group: &str, level: &str, message: &str) {
        let now = pm_db::object::format_time(&chrono::Utc::now());
        let g = self.data.entry(group.to_string()).or_insert_with(|| {
            let mut c = Log::counters();
            c["log"] = json!([]);
            c
        });
        if let Some(log) = g.get_mut("log").and_then(Json::as_array_mut) {
            log.push(json!([now, level, null, null, message]));
        }
        if COUNTED.contains(&level) {
            if let Some(n) = g.get_mut(level) {
                *n = json!(n.as_i64().unwrap_or(0) + 1);
            }
            let t = self.data.entry("total").or_insert_with(Log::counters);
            if let Some(n) = t.get_mut(level) {
                *n = json!(n.as_i64().unwrap_or(0) + 1);
            }
        }
    }

    pub fn set_progress(&mut self, done: u64, total: u64) {
        self.data.insert("progress".into(), json!({"done": done, "total": total}));
    }

    /// A key of `data` beside the groupings (`progress`, `error`).
    pub fn set(&mut self, key: &str, value: Json) {
        self.data.insert(key.into(), value);
    }

    pub fn to_json(&self) -> Json {
        Json::Object(self.data.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

pub(crate) struct Shared {
    pub log: Log,
    pub dirty: bool,
    /// Set by `fail`: the job ends `failed` even if the handler returns Ok.
    pub failed: bool,
}

/// Handed to a job's handler.
#[derive(Clone)]
pub struct JobCtx {
    pub db: Db,
    pub queue: SqlQueue,
    pub config: Arc<EngineConfig>,
    pub id: i64,
    pub job_id: String,
    pub name: String,
    pub payload: Json,
    /// 1 for the first run.
    pub attempt: i64,
    pub max_attempts: i64,
    pub user_id: Option<i64>,
    pub object_type: Option<i64>,
    pub object_id: Option<i64>,
    pub worker: String,
    pub(crate) shared: Arc<Mutex<Shared>>,
}

impl JobCtx {
    fn log(&self, group: &str, level: &str, message: &str) {
        let mut s = self.shared.lock().unwrap();
        s.log.add(group, level, message);
        s.dirty = true;
    }
    pub fn info(&self, message: &str) {
        self.log("main", "info", message)
    }
    pub fn success(&self, message: &str) {
        self.log("main", "success", message)
    }
    pub fn warning(&self, message: &str) {
        self.log("main", "warning", message)
    }
    pub fn failure(&self, message: &str) {
        self.log("main", "failure", message)
    }
    /// A line of the job's result (`output`).
    pub fn output(&self, line: &str) {
        self.log("output", "default", line)
    }
    /// Progress for jobs that know their size; shown live.
    pub fn progress(&self, done: u64, total: u64) {
        let mut s = self.shared.lock().unwrap();
        s.log.set_progress(done, total);
        s.dirty = true;
    }
    /// Structured result beside the log (`data.error` of a template error).
    pub fn set_data(&self, key: &str, value: Json) {
        let mut s = self.shared.lock().unwrap();
        s.log.set(key, value);
        s.dirty = true;
    }
    /// Log a failure and end the job `failed` once the handler returns.
    pub fn fail(&self, message: &str) {
        self.failure(message);
        self.shared.lock().unwrap().failed = true;
    }
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}
