//! core: the change log and job records.

use crate::choices::*;
use crate::hooks::Hooks;
use crate::model::Lookups::*;
use crate::model::OnDelete::*;
use crate::model::{f, *};
use crate::query::custom::CustomFilter as C;

pub static OBJECT_CHANGE: Model = Model {
    app: "core",
    name: "objectchange",
    verbose: "object change",
    verbose_plural: "object changes",
    table: "core_objectchange",
    api: "object-changes",
    ui: Some("/core/changelog/"),
    fields: &[
        f::ID,
        f::datetime("time").ro(),
        f::fk("user", "users.user", SetNull).null().ro(),
        f::text("user_name", 150).ro().filter(Str),
        Field::new("request_id", Kind::Uuid).ro().filter(Exact),
        f::choice("action", OBJECT_CHANGE_ACTION, "create").obj().ro(),
        Field::new("changed_object_type", Kind::ContentType).ro(),
        f::uint("changed_object_id").ro().filter(Num),
        f::computed("changed_object", Computed::ChangedObject),
        Field::new("related_object_type", Kind::ContentType).null().internal(),
        f::uint("related_object_id").null().internal(),
        f::text("object_repr", 200).internal().filter(Str),
        f::json("prechange_data").ro(),
        f::json("postchange_data").ro(),
    ],
    ordering: &["-time"],
    brief: &["time", "action"],
    brief_display_url: true,
    filters: &[
        path("changed_object_type_id", "changed_object_type_id", Rel),
        custom("changed_object_type", C::ContentTypeLabel("changed_object_type_id")),
        path("user_id", "user_id", Rel),
        path("user", "user.username", Rel),
        custom("time_after", C::After("time")),
        custom("time_before", C::Before("time")),
    ],
    search: &[Search::Contains("user_name"), Search::Contains("object_repr")],
    features: Features::SYSTEM,
    access: Access::ReadDelete,
    display_deps: &[],
    display: |v| {
        let ct = v.int("changed_object_type").and_then(crate::registry::by_ct_id);
        let (app, verbose) = ct.map(|m| (crate::registry::app_verbose(m.app), m.verbose)).unwrap_or(("", ""));
        let action = match v.text("action") {
            "create" => "created",
            "update" => "updated",
            _ => "deleted",
        };
        format!("{app} | {verbose} {} {action} by {}", v.text("object_repr"), v.text("user_name"))
    },
    hooks: Hooks::NONE,
    unique_together: &[],
};

pub static JOB: Model = Model {
    app: "core",
    name: "job",
    verbose: "job",
    verbose_plural: "jobs",
    table: "core_job",
    api: "jobs",
    ui: Some("/core/jobs/"),
    fields: &[
        f::ID,
        Field::new("object_type", Kind::ContentType).null().ro().gates_view("object_id"),
        f::uint("object_id").null().filter(Num),
        f::text("name", 200).filter(Str),
        f::choice("status", JOB_STATUS, "pending").obj().ro(),
        f::datetime("created").ro(),
        f::datetime("started"),
        f::datetime("completed"),
        f::fk("user", "users.user", SetNull).null().ro(),
        f::json("data"),
        Field::new("job_id", Kind::Uuid).unique("Job with this job ID already exists."),
        f::computed("output", Computed::JobOutput),
        // --- Queue state, internal (crates/jobs runs the queue on this table) ---
        // Arguments of the job type.
        f::json("payload").internal(),
        // Earliest start, milliseconds since the epoch (retries and delayed jobs).
        f::uint("run_at_ms").default(Init::Int(0)).internal(),
        f::uint("attempts").default(Init::Int(0)).internal(),
        // More than one: a failed or lost attempt is retried.
        f::uint("max_attempts").default(Init::Int(1)).internal(),
        // Running jobs: the worker's lease, renewed by its heartbeat.
        Field::new("lease_ms", Kind::Int { min: 0, max: i64::MAX }).null().internal(),
        f::text("worker", 200).internal(),
        // Jobs sharing a key run one at a time, in creation order (webhook events of one object).
        Field::new("serial_key", Kind::Text { max: 200 }).null().internal(),
        // --- end of queue state ---
    ],
    ordering: &["-created"],
    brief: &["created", "completed", "user", "status"],
    brief_display_url: true,
    filters: &[
        path("object_type", "object_type_id", Rel),
        path("user", "user_id", Rel),
        custom("created__after", C::After("created")),
        custom("created__before", C::Before("created")),
        custom("started__after", C::After("started")),
        custom("started__before", C::Before("started")),
        custom("completed__after", C::After("completed")),
        custom("completed__before", C::Before("completed")),
    ],
    search: &[Search::Contains("user.username"), Search::Contains("name")],
    features: Features::SYSTEM,
    access: Access::ReadOnly,
    display_deps: &[],
    display: |v| v.text("job_id").to_string(),
    hooks: Hooks::NONE,
    unique_together: &[],
};

/// Periodic work (crates/jobs scheduler): one row per job type, fired once
/// per period for the whole cluster.
pub static JOB_SCHEDULE: Model = Model {
    app: "core",
    name: "jobschedule",
    verbose: "job schedule",
    verbose_plural: "job schedules",
    table: "core_jobschedule",
    api: "job-schedules",
    ui: None,
    fields: &[
        f::ID,
        f::text("name", 200).required().unique("Job schedule with this name already exists.").filter(Str),
        f::boolean("enabled", true).filter(Exact),
        // Seconds between runs; or `cron`.
        Field::new("interval_seconds", Kind::Int { min: 1, max: i64::MAX }).null().filter(Num),
        f::text("cron", 100),
        f::json("payload"),
        f::datetime("last_run").ro(),
        f::datetime("next_run").ro(),
        f::uint("last_job").null().ro(),
        // The period being claimed, milliseconds since the epoch (compare-and-swap guard).
        Field::new("next_run_ms", Kind::Int { min: 0, max: i64::MAX }).null().internal(),
        f::CREATED.internal(),
        f::UPDATED.internal(),
    ],
    ordering: &["name"],
    brief: &["name", "enabled"],
    brief_display_url: false,
    filters: &[],
    search: &[Search::Contains("name")],
    features: Features::SYSTEM.with_timestamps(),
    access: Access::ReadWrite,
    display_deps: &[],
    display: |v| v.text("name").to_string(),
    hooks: Hooks { clean: Some(crate::webhooks::clean_schedule) },
    unique_together: &[],
};
