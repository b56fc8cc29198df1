//! The migration runner against a real server: each test has its own database and its own
//! migrations folder under the system temp directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lifeguard::Client;
use lifeguard::migrate::{MigrateError, Migrations, Migrator, checksum};
use lifeguard::testkit::TestDatabase;

/// A migrations folder removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "lifeguard-migrate-{}-{}-{tag}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    /// Writes `<folder>/up.sql` and, if given, `<folder>/down.sql`.
    fn add(&self, folder: &str, up: &str, down: Option<&str>) -> &Dir {
        let dir = self.0.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        if let Some(down) = down {
            std::fs::write(dir.join("down.sql"), down).unwrap();
        }
        self
    }

    fn remove(&self, folder: &str) {
        std::fs::remove_dir_all(self.0.join(folder)).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn migrator(&self) -> Migrator {
        Migrator::from_dir(&self.0).expect("load migrations")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn db() -> (TestDatabase, Client) {
    let db = TestDatabase::create().expect("create a test database");
    let client = db.connect().expect("connect");
    (db, client)
}

/// `(version, checksum, success)` of every tracking row, in version order.
fn tracking(c: &Client) -> Vec<(String, String, bool)> {
    c.query(
        "SELECT version, checksum, success FROM lifeguard_migrations ORDER BY version",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn versions(c: &Client) -> Vec<String> {
    tracking(c).into_iter().map(|(v, _, _)| v).collect()
}

fn exists(c: &Client, relation: &str) -> bool {
    c.query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
        .unwrap()
        .get(0)
}

fn strings(c: &Client, sql: &str) -> Vec<String> {
    c.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn advisory_locks(c: &Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[],
    )
    .unwrap()
    .get(0)
}

const V1: &str = "20261124183000";
const V2: &str = "20261124183001";
const V3: &str = "20261201000000";

#[test]
fn applies_pending_in_order_records_checksums_and_then_nothing() {
    let (_db, mut c) = db();
    let dir = Dir::new("order");
    let up1 = "CREATE TABLE log (id serial PRIMARY KEY, v text NOT NULL);\nINSERT INTO log (v) VALUES ('m1');\n";
    let up2 = "ALTER TABLE log ADD extra int;\nINSERT INTO log (v) VALUES ('m2');\n";
    let up3 = "INSERT INTO log (v, extra) VALUES ('m3', 3);\n";
    // Written out of order: the version orders them, not the file system.
    dir.add(
        &format!("{V3}_third"),
        up3,
        Some("DELETE FROM log WHERE v = 'm3';"),
    )
    .add(&format!("{V1}_create_log"), up1, Some("DROP TABLE log;"))
    .add(
        &format!("{V2}_add_extra"),
        up2,
        Some("ALTER TABLE log DROP extra;"),
    );
    let m = dir.migrator();

    let before = m.status(&c).unwrap();
    assert!(before.applied.is_empty());
    assert_eq!(before.pending.len(), 3);

    let applied = m.run(&mut c).unwrap();
    let names: Vec<_> = applied.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["create_log", "add_extra", "third"]);
    assert!(applied.iter().all(|e| !e.no_transaction));
    assert_eq!(
        strings(&c, "SELECT v FROM log ORDER BY id"),
        ["m1", "m2", "m3"]
    );
    assert_eq!(
        tracking(&c),
        vec![
            (V1.to_string(), checksum(up1), true),
            (V2.to_string(), checksum(up2), true),
            (V3.to_string(), checksum(up3), true),
        ]
    );
    let names: Vec<String> = strings(&c, "SELECT name FROM lifeguard_migrations ORDER BY version");
    assert_eq!(names, ["create_log", "add_extra", "third"]);

    // The session is left as found: lock released, lock_timeout restored.
    assert_eq!(advisory_locks(&c), 0);
    assert_eq!(strings(&c, "SHOW lock_timeout"), ["0"]);

    assert!(
        m.run(&mut c).unwrap().is_empty(),
        "a second run applies nothing"
    );
    assert_eq!(strings(&c, "SELECT v FROM log ORDER BY id").len(), 3);
    let status = m.status(&c).unwrap();
    assert!(status.is_up_to_date(), "{status:?}");
    assert_eq!(status.applied.len(), 3);
}

#[test]
fn concurrent_runners_apply_each_migration_exactly_once() {
    let (db, _c) = db();
    let dir = Dir::new("concurrent");
    dir.add(
        "1000_effects",
        "CREATE TABLE effects (migration text NOT NULL);\nINSERT INTO effects VALUES ('1000');",
        Some("DROP TABLE effects;"),
    );
    for v in 1001..1008 {
        dir.add(
            &format!("{v}_step"),
            &format!(
                "CREATE TABLE t{v} (id int);\nSELECT pg_sleep(0.01);\nINSERT INTO effects VALUES ('{v}');"
            ),
            Some(&format!("DROP TABLE t{v};")),
        );
    }
    let migrator = Arc::new(dir.migrator());

    let mut handles = Vec::new();
    for _ in 0..3 {
        let mut client = db.connect().unwrap();
        let m = migrator.clone();
        let h = may::go!(
            may::coroutine::Builder::new().stack_size(0x8000),
            move || m.run(&mut client).map(|done| done.len())
        )
        .unwrap();
        handles.push(h);
    }
    let counts: Vec<usize> = handles
        .into_iter()
        .map(|h| h.join().unwrap().expect("every runner succeeds"))
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 8, "{counts:?}");

    let c = db.connect().unwrap();
    assert_eq!(versions(&c).len(), 8);
    let per_migration: Vec<(String, i64)> = c
        .query(
            "SELECT migration, count(*) FROM effects GROUP BY migration ORDER BY migration",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(per_migration.len(), 8);
    assert!(
        per_migration.iter().all(|(_, n)| *n == 1),
        "{per_migration:?}"
    );
    assert_eq!(advisory_locks(&c), 0);
}

#[test]
fn a_runner_gives_up_on_a_held_lock_with_a_typed_error() {
    let (db, mut c) = db();
    let dir = Dir::new("lock");
    dir.add(&format!("{V1}_a"), "CREATE TABLE a (id int);", None);
    let holder = db.connect().unwrap();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&42i64])
        .unwrap();
    let m = dir
        .migrator()
        .lock_key(42)
        .lock_wait(Duration::from_millis(200));
    let e = m.run(&mut c).unwrap_err();
    match &e {
        MigrateError::LockTimeout {
            key, holder: pid, ..
        } => {
            assert_eq!(*key, 42);
            assert_eq!(*pid, Some(holder.backend_pid()));
        }
        other => panic!("expected LockTimeout, got {other:?}"),
    }
    assert!(e.to_string().contains("lock_wait"), "{e}");
    assert!(!exists(&c, "a"));
    assert!(!exists(&c, "lifeguard_migrations"));

    holder
        .execute("SELECT pg_advisory_unlock($1)", &[&42i64])
        .unwrap();
    assert_eq!(m.run(&mut c).unwrap().len(), 1);
}

#[test]
fn a_failing_migration_leaves_no_trace_and_earlier_ones_stay() {
    let (_db, mut c) = db();
    let dir = Dir::new("failing");
    dir.add(
        &format!("{V1}_x"),
        "CREATE TABLE x (id int);",
        Some("DROP TABLE x;"),
    )
    .add(
        &format!("{V2}_half"),
        "CREATE TABLE a (id int);\nSELECT 1/0;\n",
        Some("DROP TABLE a;"),
    )
    .add(&format!("{V3}_after"), "CREATE TABLE c (id int);", None);
    let m = dir.migrator();
    let e = m.run(&mut c).unwrap_err();
    match &e {
        MigrateError::MigrationFailed {
            migration,
            file,
            partial,
            source,
            ..
        } => {
            assert_eq!(migration, &format!("{V2}_half"));
            assert_eq!(*file, "up.sql");
            assert!(!partial);
            assert_eq!(source.code().unwrap().code(), "22012"); // division_by_zero
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    assert!(e.to_string().contains("rolled back"), "{e}");
    assert!(
        !exists(&c, "a"),
        "the failed migration's table is rolled back"
    );
    assert!(!exists(&c, "c"), "later migrations do not run");
    assert!(exists(&c, "x"));
    assert_eq!(versions(&c), [V1]);
    assert_eq!(advisory_locks(&c), 0);
    assert_eq!(
        c.transaction_status(),
        lifeguard::client::TransactionStatus::Idle
    );

    let status = m.status(&c).unwrap();
    assert_eq!(status.pending.len(), 2);
    assert!(status.is_consistent());
}

#[test]
fn a_changed_migration_is_refused_until_repaired() {
    let (_db, mut c) = db();
    let dir = Dir::new("checksum");
    dir.add(&format!("{V1}_a"), "CREATE TABLE a (id int);\n", None);
    dir.migrator().run(&mut c).unwrap();

    let edited = "CREATE TABLE a (id int); -- reviewed edit\n";
    dir.add(&format!("{V1}_a"), edited, None).add(
        &format!("{V2}_b"),
        "CREATE TABLE b (id int);",
        None,
    );
    let m = dir.migrator();
    let e = m.run(&mut c).unwrap_err();
    match &e {
        MigrateError::ChecksumMismatch { changed } => {
            assert_eq!(changed.len(), 1);
            assert_eq!(changed[0].version, V1);
            assert_eq!(changed[0].file_checksum, checksum(edited));
            assert_eq!(
                changed[0].applied_checksum,
                checksum("CREATE TABLE a (id int);\n")
            );
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    assert!(e.to_string().contains("repair"), "{e}");
    assert!(!exists(&c, "b"), "nothing is applied");
    assert_eq!(versions(&c), [V1]);
    let status = m.status(&c).unwrap();
    assert_eq!(status.changed.len(), 1);
    assert_eq!(status.pending.len(), 1);

    let repaired = m.repair(&mut c).unwrap();
    assert_eq!(repaired.restamped, [format!("{V1}_a")]);
    assert!(repaired.removed_missing.is_empty());
    assert_eq!(tracking(&c)[0].1, checksum(edited));
    assert_eq!(m.run(&mut c).unwrap().len(), 1);
    assert!(exists(&c, "b"));
    assert!(m.status(&c).unwrap().is_up_to_date());
}

#[test]
fn a_migration_missing_on_disk_is_refused_reported_and_repairable() {
    let (_db, mut c) = db();
    let dir = Dir::new("missing");
    dir.add(&format!("{V1}_a"), "CREATE TABLE a (id int);", None)
        .add(&format!("{V2}_b"), "CREATE TABLE b (id int);", None);
    dir.migrator().run(&mut c).unwrap();

    dir.remove(&format!("{V1}_a"));
    dir.add(&format!("{V3}_c"), "CREATE TABLE c (id int);", None);
    let m = dir.migrator();
    let e = m.run(&mut c).unwrap_err();
    match &e {
        MigrateError::MissingOnDisk { missing } => assert_eq!(missing, &[format!("{V1}_a")]),
        other => panic!("expected MissingOnDisk, got {other:?}"),
    }
    assert!(!exists(&c, "c"), "nothing is applied");

    let status = m.status(&c).unwrap();
    let missing: Vec<_> = status.missing.iter().map(|r| r.label()).collect();
    assert_eq!(missing, [format!("{V1}_a")]);
    assert_eq!(status.applied.len(), 2);
    assert_eq!(status.pending.len(), 1);
    assert!(!status.is_consistent());

    let repaired = m.repair(&mut c).unwrap();
    assert_eq!(repaired.removed_missing, [format!("{V1}_a")]);
    assert!(exists(&c, "a"), "repair forgets the record, not the table");
    assert_eq!(m.run(&mut c).unwrap().len(), 1);
    assert_eq!(versions(&c), [V2, V3]);
}

#[test]
fn no_transaction_migrations_run_concurrently_built_indexes() {
    let (_db, mut c) = db();
    let dir = Dir::new("no-tx");
    dir.add(
        &format!("{V1}_table"),
        "CREATE TABLE t (a int, b text, c int);\nINSERT INTO t SELECT g, g::text, g FROM generate_series(1, 100) g;",
        Some("DROP TABLE t;"),
    )
    .add(
        &format!("{V2}_indexes"),
        "-- lifeguard:no-transaction\r\n\
         CREATE INDEX CONCURRENTLY t_a ON t (a);\r\n\
         -- a comment; with a semicolon\r\n\
         CREATE INDEX CONCURRENTLY t_b ON t (b);\r\n",
        Some("-- lifeguard:no-transaction\nDROP INDEX CONCURRENTLY t_a;\nDROP INDEX CONCURRENTLY t_b;\n"),
    );
    let m = dir.migrator();
    let applied = m.run(&mut c).unwrap();
    assert_eq!(applied.len(), 2);
    assert!(!applied[0].no_transaction);
    assert!(applied[1].no_transaction);
    let valid = strings(
        &c,
        "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = 't'::regclass AND x.indisvalid ORDER BY 1",
    );
    assert_eq!(valid, ["t_a", "t_b"]);
    assert!(tracking(&c).iter().all(|(_, _, ok)| *ok));

    // Reverting it runs its down.sql outside a transaction too.
    let reverted = m.revert(&mut c, 1).unwrap();
    assert!(reverted[0].no_transaction);
    assert!(!exists(&c, "t_a") && !exists(&c, "t_b"));
    assert_eq!(versions(&c), [V1]);
    m.run(&mut c).unwrap();

    // One that fails part-way is recorded as failed and blocks runs until repaired.
    let failing =
        "-- lifeguard:no-transaction\nCREATE INDEX CONCURRENTLY t_c ON t (c);\nSELECT 1/0;\n";
    dir.add(&format!("{V3}_fails"), failing, None);
    let m = dir.migrator();
    let e = m.run(&mut c).unwrap_err();
    match &e {
        MigrateError::MigrationFailed {
            statement, partial, ..
        } => {
            assert_eq!(*statement, Some((2, 2)));
            assert!(partial);
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    assert!(exists(&c, "t_c"), "the first statement stays applied");
    assert_eq!(tracking(&c)[2], (V3.to_string(), checksum(failing), false));
    let e = m.run(&mut c).unwrap_err();
    assert!(
        matches!(&e, MigrateError::PreviouslyFailed { failed } if failed == &[format!("{V3}_fails")]),
        "{e:?}"
    );
    assert_eq!(m.status(&c).unwrap().failed.len(), 1);

    // Fixed by hand and in the file, the failure record is cleared and it runs again.
    c.batch_execute("DROP INDEX t_c").unwrap();
    dir.add(
        &format!("{V3}_fails"),
        "-- lifeguard:no-transaction\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n",
        None,
    );
    let m = dir.migrator();
    let repaired = m.repair(&mut c).unwrap();
    assert_eq!(repaired.cleared_failed, [format!("{V3}_fails")]);
    assert!(repaired.restamped.is_empty());
    assert_eq!(m.run(&mut c).unwrap().len(), 1);
    assert!(m.status(&c).unwrap().is_up_to_date());
}

#[test]
fn revert_runs_down_scripts_newest_first_and_redo_reapplies() {
    let (_db, mut c) = db();
    c.batch_execute("CREATE TABLE reverts (id serial PRIMARY KEY, v text NOT NULL)")
        .unwrap();
    let dir = Dir::new("revert");
    for (v, n) in [(V1, 1), (V2, 2), (V3, 3)] {
        dir.add(
            &format!("{v}_t{n}"),
            &format!("CREATE TABLE t{n} (id int);"),
            Some(&format!(
                "DROP TABLE t{n};\nINSERT INTO reverts (v) VALUES ('t{n}');"
            )),
        );
    }
    let m = dir.migrator();
    m.run(&mut c).unwrap();

    let reverted = m.revert(&mut c, 2).unwrap();
    let names: Vec<_> = reverted.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["t3", "t2"]);
    assert_eq!(
        strings(&c, "SELECT v FROM reverts ORDER BY id"),
        ["t3", "t2"]
    );
    assert_eq!(versions(&c), [V1]);
    assert!(exists(&c, "t1") && !exists(&c, "t2") && !exists(&c, "t3"));
    assert_eq!(m.status(&c).unwrap().pending.len(), 2);

    let redone = m.redo(&mut c).unwrap().expect("something to redo");
    assert_eq!(redone.reverted.name, "t1");
    assert_eq!(redone.applied.name, "t1");
    assert_eq!(
        strings(&c, "SELECT v FROM reverts ORDER BY id"),
        ["t3", "t2", "t1"]
    );
    assert!(exists(&c, "t1"));
    assert_eq!(versions(&c), [V1]);

    assert_eq!(m.run(&mut c).unwrap().len(), 2);
    assert_eq!(versions(&c), [V1, V2, V3]);

    // More steps than applied migrations reverts them all; then there is nothing to redo.
    assert_eq!(m.revert(&mut c, 10).unwrap().len(), 3);
    assert!(versions(&c).is_empty());
    assert!(m.redo(&mut c).unwrap().is_none());
    assert_eq!(advisory_locks(&c), 0);
}

#[test]
fn revert_refuses_a_migration_without_down_sql() {
    let (_db, mut c) = db();
    let dir = Dir::new("irreversible");
    dir.add(
        &format!("{V1}_a"),
        "CREATE TABLE a (id int);",
        Some("DROP TABLE a;"),
    )
    .add(&format!("{V2}_b"), "CREATE TABLE b (id int);", None);
    let m = dir.migrator();
    m.run(&mut c).unwrap();
    let e = m.revert(&mut c, 2).unwrap_err();
    assert!(
        matches!(&e, MigrateError::Irreversible { migration } if migration == &format!("{V2}_b")),
        "{e:?}"
    );
    assert_eq!(versions(&c), [V1, V2], "nothing is reverted");
    assert!(exists(&c, "a") && exists(&c, "b"));
}

#[test]
fn crlf_and_lf_files_have_the_same_checksum() {
    let (_db, mut c) = db();
    let lf = Dir::new("lf");
    let crlf = Dir::new("crlf");
    let up = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n";
    lf.add(&format!("{V1}_a"), up, Some("DROP TABLE a;\n"));
    crlf.add(
        &format!("{V1}_a"),
        &up.replace('\n', "\r\n"),
        Some("DROP TABLE a;\r\n"),
    );
    let from_lf = Migrations::from_dir(lf.path()).unwrap();
    let from_crlf = Migrations::from_dir(crlf.path()).unwrap();
    let (a, b) = (
        from_lf.iter().next().unwrap(),
        from_crlf.iter().next().unwrap(),
    );
    assert_eq!(a.checksum(), b.checksum());
    assert_eq!(a.checksum(), checksum(up));

    // Applied from the LF checkout, the CRLF checkout is up to date.
    lf.migrator().run(&mut c).unwrap();
    let m = crlf.migrator();
    assert!(m.status(&c).unwrap().is_up_to_date());
    assert!(m.run(&mut c).unwrap().is_empty());
}

#[test]
fn invalid_folders_are_typed_errors_naming_the_path() {
    let dir = Dir::new("bad-name");
    dir.add(&format!("{V1}_ok"), "SELECT 1;", None)
        .add("create_users", "SELECT 1;", None);
    let e = Migrations::from_dir(dir.path()).unwrap_err();
    match &e {
        MigrateError::BadFolderName { path, .. } => assert!(path.ends_with("create_users")),
        other => panic!("expected BadFolderName, got {other:?}"),
    }
    assert!(e.to_string().contains("create_users"), "{e}");

    let dir = Dir::new("bad-version");
    dir.add("2026x_users", "SELECT 1;", None);
    let e = Migrations::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&e, MigrateError::BadFolderName { path, .. } if path.ends_with("2026x_users")),
        "{e:?}"
    );

    let dir = Dir::new("no-up");
    std::fs::create_dir_all(dir.path().join(format!("{V1}_empty"))).unwrap();
    let e = Migrations::from_dir(dir.path()).unwrap_err();
    match &e {
        MigrateError::MissingUpSql { path } => {
            assert!(path.ends_with(format!("{V1}_empty/up.sql")))
        }
        other => panic!("expected MissingUpSql, got {other:?}"),
    }

    let dir = Dir::new("duplicate");
    dir.add(&format!("{V1}_one"), "SELECT 1;", None)
        .add(&format!("{V1}_two"), "SELECT 2;", None);
    let e = Migrations::from_dir(dir.path()).unwrap_err();
    match &e {
        MigrateError::DuplicateVersion {
            version,
            first,
            second,
        } => {
            assert_eq!(version, V1);
            assert!(first.ends_with(&format!("{V1}_one")), "{first}");
            assert!(second.ends_with(&format!("{V1}_two")), "{second}");
        }
        other => panic!("expected DuplicateVersion, got {other:?}"),
    }

    // Plain files and hidden folders are ignored.
    let dir = Dir::new("extras");
    dir.add(&format!("{V1}_ok"), "SELECT 1;", None)
        .add(".hidden", "SELECT 1;", None);
    std::fs::write(dir.path().join("README.md"), "notes").unwrap();
    assert_eq!(Migrations::from_dir(dir.path()).unwrap().len(), 1);

    let e = Migrations::from_dir(dir.path().join("does-not-exist")).unwrap_err();
    assert!(matches!(e, MigrateError::Io { .. }), "{e:?}");
}

#[test]
fn embedded_migrations_run_through_a_pool_in_a_configured_table() {
    let pool = lifeguard::testkit::TestPool::new().unwrap();
    let migrations = Migrations::from_static(&[
        (V2, "b", "CREATE TABLE b (id int);", "DROP TABLE b;"),
        (V1, "a", "CREATE TABLE a (id int);", "DROP TABLE a;"),
    ])
    .unwrap();
    let m = Migrator::new(migrations)
        .schema("ops")
        .table("schema_history");
    let applied = m.run_with_pool(&pool).unwrap();
    let names: Vec<_> = applied.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(m.run_with_pool(&pool).unwrap().is_empty());

    let c = pool.database().connect().unwrap();
    assert_eq!(
        strings(
            &c,
            "SELECT version FROM ops.schema_history ORDER BY version"
        ),
        [V1, V2]
    );
    assert!(!exists(&c, "lifeguard_migrations"));
    assert_eq!(
        advisory_locks(&c),
        0,
        "the pooled connection gave the lock back"
    );

    let mut guard = pool.acquire().unwrap();
    assert_eq!(m.revert(&mut guard, 1).unwrap()[0].name, "b");
    assert!(m.status(&guard).unwrap().pending.len() == 1);
}
