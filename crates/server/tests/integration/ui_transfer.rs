//! CSV export and import of every model with pages: what export writes,
//! import reads back, edited (rows with ids update those objects) and as new
//! objects (rows without ids).

use axum::http::Method;
use pm_db::model::{Kind, Model};

use crate::both;
use crate::harness::TestApp;
use crate::ui_support::{Browser, admin, every_model, location};

struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn parse(text: &str) -> Csv {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
        Csv { header, rows }
    }

    fn write(&self, skip: Option<usize>) -> String {
        let mut w = csv::Writer::from_writer(vec![]);
        let keep = |row: &[String]| -> Vec<String> {
            row.iter().enumerate().filter(|(i, _)| Some(*i) != skip).map(|(_, c)| c.clone()).collect()
        };
        w.write_record(keep(&self.header)).unwrap();
        for row in &self.rows {
            w.write_record(keep(row)).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The columns import writes, row by row (sorted: ids differ after a re-create).
    fn writable(&self, m: &'static Model) -> Vec<Vec<(String, String)>> {
        let mut rows: Vec<Vec<(String, String)>> = self
            .rows
            .iter()
            .map(|row| {
                self.header
                    .iter()
                    .zip(row)
                    .filter(|(h, _)| m.field(h).is_some_and(|f| f.writable()))
                    .map(|(h, c)| (h.clone(), c.clone()))
                    .collect()
            })
            .collect();
        rows.sort();
        rows
    }
}

async fn export(b: &mut Browser<'_>, path: &str) -> Csv {
    let r = b.get(&format!("{path}?export=csv")).await;
    assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
    Csv::parse(&r.text)
}

/// Import `data` on the model's import page; the flash message shown after.
async fn import(b: &mut Browser<'_>, path: &str, data: &str) -> String {
    b.page(&format!("{path}import/")).await;
    let r = b.post(&format!("{path}import/"), &[("format", "csv"), ("data", data)]).await;
    assert_eq!(r.status.as_u16(), 303, "{path} import of\n{data}\n{}", r.text);
    assert_eq!(location(&r), path);
    b.page(path).await
}

/// Whether `from` may point at objects of `m` (foreign keys, many-to-many,
/// tags, and a content type with an object id: anything).
fn points_at(from: &'static Model, m: &'static Model) -> bool {
    from.fields.iter().any(|f| match f.kind {
        Kind::Fk { to, .. } | Kind::M2m { to, .. } => to == m.label(),
        Kind::Tags => m.label() == "extras.tag",
        Kind::ContentType => from.fields.iter().any(|g| g.name.ends_with("object_id")),
        _ => false,
    })
}

both!(csv_export_imports_back_for_every_model, |backend| {
    use pm_web::ui::meta::{ui_models, ui_path};
    let app = TestApp::new(backend).await;
    let objects = every_model(&app).await;
    let mut b = admin(&app).await;
    let mut models: Vec<(&str, &'static Model)> = vec![];
    for (path, _) in &objects {
        // Both ends: an import page and a list to export (assignments have no list).
        if b.get(&format!("{path}import/")).await.status.as_u16() == 200 && b.get(path).await.status.as_u16() == 200 {
            models.push((path, ui_models().find(|m| ui_path(m) == Some(path)).unwrap()));
        }
    }
    assert!(
        models.len() >= 18,
        "models with an import page: {models:?}",
        models = models.iter().map(|m| m.0).collect::<Vec<_>>()
    );

    // Edited: a text column changed on every row, imported with the ids.
    for (path, m) in &models {
        let before = export(&mut b, path).await;
        assert!(!before.rows.is_empty(), "{path}: exported nothing");
        assert_eq!(before.header[0], "id");
        let mut edited = Csv { header: before.header.clone(), rows: before.rows.clone() };
        // Free text everyone has: a description, comments, else the name.
        let text = ["description", "comments", "name"]
            .iter()
            .find_map(|n| before.col(n).filter(|_| m.field(n).is_some_and(|f| f.writable())));
        if let Some(c) = text {
            for row in edited.rows.iter_mut() {
                row[c] = format!("{} (edited)", row[c]).trim().to_string();
            }
        }
        let page = import(&mut b, path, &edited.write(None)).await;
        assert!(page.contains(&format!("Updated {}", before.rows.len())), "{path}: {page}");
        let after = export(&mut b, path).await;
        assert_eq!(after.writable(m), edited.writable(m), "{path}: edited in place");
        assert_eq!(after.rows.len(), before.rows.len());
    }

    // New objects: the originals deleted, the export imported without ids.
    // Models pointed at by others come last, so that deleting them takes
    // nothing along that is still to be tested.
    let mut created = vec![];
    while !models.is_empty() {
        let next = models
            .iter()
            .position(|(_, m)| !models.iter().any(|(_, other)| other.label() != m.label() && points_at(other, m)))
            .unwrap_or(0);
        let (path, m) = models.remove(next);
        let before = export(&mut b, path).await;
        let ids: Vec<serde_json::Value> =
            before.rows.iter().map(|r| serde_json::json!({"id": r[0].parse::<i64>().unwrap()})).collect();
        let r = b.api(Method::DELETE, &m.api_list_path(), Some(serde_json::json!(ids)), true).await;
        if r.status.as_u16() == 409 {
            continue; // still protected by objects re-created above
        }
        assert_eq!(r.status.as_u16(), 204, "{path}: {}", r.text);
        let page = import(&mut b, path, &before.write(before.col("id"))).await;
        assert!(page.contains(&format!("Imported {}", before.rows.len())), "{path}: {page}");
        let again = export(&mut b, path).await;
        assert_eq!(again.writable(m), before.writable(m), "{path}: created again");
        created.push(path);
    }
    assert!(created.len() >= 15, "created again: {created:?}");
});
