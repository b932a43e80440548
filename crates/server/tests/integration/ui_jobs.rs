//! Jobs and job schedules in the web UI: the job list, a job's page (status,
//! who started it, the object, its live log and progress), Cancel and
//! Re-run with their permissions, and schedules added and edited in forms.

use axum::http::Method;
use pm_jobs::{Engine, JobQueue, NewJob, SqlQueue};
use serde_json::json;

use crate::both;
use crate::harness::TestApp;
use crate::jobs::{HOLD, Hold, fast_config, status_of, wait_status};
use crate::ui_support::{Browser, admin, location};

/// A page with its escaped slashes read back as slashes.
async fn html(b: &mut Browser<'_>, path: &str) -> String {
    b.page(path).await.replace("&#x2f;", "/")
}

both!(job_pages_show_status_log_and_actions, |backend| {
    let app = TestApp::new(backend).await;
    let asys = app.create("/api/peering/autonomous-systems/", json!({"asn": 64500, "name": "Example Net"})).await;
    let q = SqlQueue::new(app.db.clone());
    let ct = pm_db::registry::ct_id(pm_db::registry::model("peering.autonomoussystem").unwrap());
    let admin_id = pm_db::auth::user_id_by_name(&app.db.conn, "admin").await.unwrap().unwrap();
    let pending = q
        .enqueue(NewJob {
            object_type: Some(ct),
            object_id: Some(asys),
            user_id: Some(admin_id),
            ..NewJob::new("pm.noop", json!({"message": "hello"}))
        })
        .await
        .unwrap();

    let mut b = admin(&app).await;
    let list = html(&mut b, "/core/jobs/").await;
    assert!(list.contains("pm.noop"), "job listed");
    assert!(list.contains("href=\"/core/job-schedules/\""), "sidebar has schedules");

    // A pending job: its status, user and object, a Cancel button, and the page polls it.
    let page = html(&mut b, &format!("/core/jobs/{pending}/")).await;
    assert!(page.contains(">Pending</span>"), "{page}");
    assert!(page.contains("<td>admin</td>"), "started by");
    assert!(page.contains(&format!("href=\"/autonomous-systems/{asys}/\"")), "object link");
    assert!(page.contains(&format!("data-job-poll=\"/api/core/jobs/{pending}/\"")), "live page");
    assert!(page.contains(&format!("action=\"/core/jobs/{pending}/cancel/\"")));
    assert!(!page.contains("/rerun/"), "no re-run of an unfinished job");

    // Cancel: the job is failed with the reason in its log; the page stops polling.
    let r = b.post(&format!("/core/jobs/{pending}/cancel/"), &[]).await;
    assert_eq!(r.status.as_u16(), 303);
    let page = html(&mut b, &location(&r)).await;
    assert!(page.contains("Job cancelled."), "flash");
    assert!(page.contains(">Failed</span>"));
    assert!(page.contains("Job cancelled by admin before it started."));
    assert!(!page.contains("data-job-poll"));
    assert_eq!(status_of(&app.db, pending).await, "failed");

    // Re-run: a new pending job for the same object, and its page.
    let r = b.post(&format!("/core/jobs/{pending}/rerun/"), &[]).await;
    assert_eq!(r.status.as_u16(), 303);
    let again_url = location(&r);
    let again: i64 = again_url.trim_matches('/').rsplit('/').next().unwrap().parse().unwrap();
    assert_ne!(again, pending);
    let page = html(&mut b, &again_url).await;
    assert!(page.contains(">Pending</span>"));
    assert!(page.contains(&format!("href=\"/autonomous-systems/{asys}/\"")));

    // Run it with a worker: completed, its output on the page.
    let (registry, hold) = Hold::registry();
    let engine = Engine::start(app.db.clone(), fast_config(), registry, false).await.unwrap();
    wait_status(&app.db, again, "completed").await;
    let page = html(&mut b, &again_url).await;
    assert!(page.contains(">Completed</span>"));
    assert!(page.contains("<pre class=\"json\" id=\"job-output\">hello</pre>"), "{page}");
    assert!(page.contains("/rerun/"));

    // A running job with a size: the progress bar and the log, and the JSON the page polls.
    let held = q.enqueue(NewJob::new(HOLD, json!({}))).await.unwrap();
    wait_status(&app.db, held, "running").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let page = loop {
        let page = html(&mut b, &format!("/core/jobs/{held}/")).await;
        if page.contains("1 / 3") {
            break page;
        }
        assert!(std::time::Instant::now() < deadline, "the running job never showed its progress: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(page.contains(">Running</span>"), "{page}");
    assert!(page.contains("Holding (attempt 1)."), "log line");
    assert!(page.contains("data-job-poll"));
    assert!(!page.contains("id=\"job-progress\" hidden"));
    let live = b.api(Method::GET, &format!("/api/core/jobs/{held}/"), None, false).await;
    assert_eq!(live.status.as_u16(), 200);
    assert_eq!(live.json["data"]["progress"]["total"], 3);
    hold.release();
    engine.stop().await;

    // Without change/add permission on jobs: no buttons, and the actions are refused.
    let other = q.enqueue(NewJob::new("pm.noop", json!({}))).await.unwrap();
    app.user_with("viewer", &[json!({"object_types": ["core.job"], "actions": ["view"]})]).await;
    let mut v = Browser::new(&app);
    assert_eq!(v.login("viewer", "a-long-password").await.status.as_u16(), 303);
    let page = html(&mut v, &format!("/core/jobs/{other}/")).await;
    assert!(!page.contains("/cancel/") && !page.contains("/rerun/"));
    let r = v.post(&format!("/core/jobs/{other}/cancel/"), &[]).await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(status_of(&app.db, other).await, "pending");
});

both!(job_schedules_are_added_and_edited_in_forms, |backend| {
    let app = TestApp::new(backend).await;
    let mut b = admin(&app).await;
    html(&mut b, "/core/job-schedules/add/").await;
    // Neither interval nor cron: the error names the field; a bad cron too.
    let r = b.post("/core/job-schedules/add/", &[("name", "pm.noop"), ("enabled", "on")]).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.contains("Give an interval (seconds) or a cron expression."), "{}", r.text);
    let r = b.post("/core/job-schedules/add/", &[("name", "pm.noop"), ("enabled", "on"), ("cron", "61 * * * *")]).await;
    assert!(r.text.contains("Invalid cron expression"), "{}", r.text);

    let before = chrono::Utc::now();
    let r = b
        .post("/core/job-schedules/add/", &[("name", "pm.noop"), ("enabled", "on"), ("interval_seconds", "3600")])
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let url = location(&r);
    let id: i64 = url.trim_matches('/').rsplit('/').next().unwrap().parse().unwrap();
    // The next run is known at once: an hour from now.
    let s = app.get(&format!("/api/core/job-schedules/{id}/")).await.expect(200);
    let next = chrono::DateTime::parse_from_rfc3339(s["next_run"].as_str().unwrap()).unwrap();
    let ahead = (next.with_timezone(&chrono::Utc) - before).num_seconds();
    assert!((3590..=3700).contains(&ahead), "next run {ahead} s ahead");
    let list = html(&mut b, "/core/job-schedules/").await;
    assert!(list.contains("pm.noop") && list.contains("3600"));
    assert!(list.contains(&next.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M").to_string()), "next run shown");

    // Edited to a cron expression: the next run follows it (the next 03:00 UTC).
    let r = b
        .post(
            &format!("/core/job-schedules/{id}/edit/"),
            &[("name", "pm.noop"), ("enabled", "on"), ("cron", "0 3 * * *")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let s = app.get(&format!("/api/core/job-schedules/{id}/")).await.expect(200);
    assert_eq!(s["cron"], "0 3 * * *");
    assert!(s["interval_seconds"].is_null());
    let next = chrono::DateTime::parse_from_rfc3339(s["next_run"].as_str().unwrap()).unwrap();
    assert_eq!(next.with_timezone(&chrono::Utc).format("%H:%M").to_string(), "03:00");
    let page = html(&mut b, &url).await;
    assert!(page.contains("0 3 * * *"));
});

both!(staff_pages_show_queues_and_workers, |backend| {
    let app = TestApp::new(backend).await;
    let q = SqlQueue::new(app.db.clone());
    q.enqueue(NewJob { run_at_ms: pm_db::webhooks::now_ms() + 3_600_000, ..NewJob::new("pm.noop", json!({})) })
        .await
        .unwrap();
    let (registry, hold) = Hold::registry();
    let engine = Engine::start(app.db.clone(), fast_config(), registry, false).await.unwrap();
    let held = q.enqueue(NewJob::new(HOLD, json!({}))).await.unwrap();
    wait_status(&app.db, held, "running").await;
    let mut b = admin(&app).await;
    let home = html(&mut b, "/").await;
    assert!(home.contains("href=\"/core/system/\"") && home.contains("href=\"/core/background-queues/\""));
    let page = html(&mut b, "/core/system/").await;
    assert!(page.contains("<td id=\"workers-running\">1</td>"), "{page}");
    assert!(page.contains(if backend == crate::harness::Backend::Sqlite { "SQLite 3." } else { "PostgreSQL " }));
    let page = html(&mut b, "/core/background-queues/").await.replace("&amp;", "&");
    assert!(page.contains("href=\"/core/jobs/?name=pm.noop&status=scheduled\">1</a>"), "{page}");
    assert!(page.contains("href=\"/core/jobs/?name=test.hold&status=running\">1</a>"), "{page}");
    assert!(page.contains("<td>1</td></tr>"), "the worker runs one job");
    // The filtered job list the counts link to.
    let list = html(&mut b, "/core/jobs/?name=pm.noop&status=scheduled").await;
    assert!(list.contains("pm.noop") && !list.contains(HOLD));
    // Not for users who are not staff.
    app.user_with("plain", &[json!({"object_types": ["core.job"], "actions": ["view"]})]).await;
    let mut v = Browser::new(&app);
    assert_eq!(v.login("plain", "a-long-password").await.status.as_u16(), 303);
    assert!(!html(&mut v, "/").await.contains("/core/system/"));
    assert_eq!(v.get("/core/system/").await.status.as_u16(), 403);
    assert_eq!(v.get("/core/background-queues/").await.status.as_u16(), 403);
    hold.release();
    engine.stop().await;
});
