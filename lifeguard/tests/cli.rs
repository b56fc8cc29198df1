//! The `lifeguard` command end to end: `diff` writes migrations that `migrate run` applies,
//! after which `diff` finds nothing; `--check` for CI; destructive changes and malformed
//! schema files write nothing and say why.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lifeguard::testkit::TestDatabase;

fn lifeguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifeguard"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run the lifeguard command")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch folder with a schema file and a migrations folder, removed at the end.
struct Project(PathBuf);

impl Project {
    fn new(tag: &str) -> Project {
        let dir = std::env::temp_dir().join(format!(
            "lifeguard-cli-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Project(dir)
    }
    fn schema(&self) -> String {
        self.0.join("schema.rs").display().to_string()
    }
    fn migrations(&self) -> String {
        self.0.join("migrations").display().to_string()
    }
    fn write_schema(&self, text: &str) {
        std::fs::write(self.0.join("schema.rs"), text).unwrap();
    }
    fn migration_folders(&self) -> Vec<String> {
        let dir = self.0.join("migrations");
        if !dir.exists() {
            return Vec::new();
        }
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }
    fn diff(&self, extra: &[&str]) -> Output {
        let schema = self.schema();
        let migrations = self.migrations();
        let mut args = vec!["diff", "--schema", &schema, "--migrations", &migrations];
        args.extend_from_slice(extra);
        lifeguard(&args)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const V1: &str = r#"
lifeguard::sql_enum! {
    pub enum Mood = "mood" { Happy = "happy", Sad = "sad" }
}

lifeguard::table! {
    use lifeguard::sql_types::*;
    use super::Mood;

    /// People.
    users (id) {
        #[identity = "always"]
        id -> Int8,
        #[max_length = 100]
        name -> Varchar,
        email -> Nullable<Text>,
        mood -> Mood,
    }

    #[index(on(author_id, created_at))]
    posts (id) {
        #[identity]
        id -> Int8,
        #[references(users(id), on_delete = cascade)]
        author_id -> Int8,
        title -> Text,
        #[default = "now()"]
        created_at -> Timestamptz,
    }
}
"#;

/// V1 with: a column added, `email` made NOT NULL, `name` widened, a label appended, an
/// index and a check added, and a column renamed (declared).
const V2: &str = r#"
lifeguard::sql_enum! {
    pub enum Mood = "mood" { Happy = "happy", Sad = "sad", Meh = "meh" }
}

lifeguard::table! {
    use lifeguard::sql_types::*;
    use super::Mood;

    /// People.
    #[index(on("lower(email)"), name = "users_email_lower_idx")]
    users (id) {
        #[identity = "always"]
        id -> Int8,
        #[max_length = 200]
        name -> Varchar,
        email -> Text,
        mood -> Mood,
        #[default = "0"]
        karma -> Int4,
    }

    #[index(on(author_id, created_at))]
    #[check(name = "posts_title_len", "length(headline) > 0")]
    posts (id) {
        #[identity]
        id -> Int8,
        #[references(users(id), on_delete = cascade)]
        author_id -> Int8,
        #[renamed_from = "title"]
        headline -> Text,
        #[default = "now()"]
        created_at -> Timestamptz,
    }
}
"#;

#[test]
fn diff_migrate_and_diff_again_converge() {
    let p = Project::new("converge");
    p.write_schema(V1);
    let out = p.diff(&["--name", "init"]);
    assert!(out.status.success(), "{}", text(&out));
    let folders = p.migration_folders();
    assert_eq!(folders.len(), 1, "{folders:?}");
    assert!(folders[0].ends_with("_init"));
    let check = p.diff(&["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("nothing to write"));

    // Apply to a real database, then change the schema.
    let db = TestDatabase::create().unwrap();
    let migrations = p.migrations();
    let run = lifeguard(&[
        "migrate",
        "run",
        "--migrations",
        &migrations,
        "--database-url",
        db.url(),
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let drift = p.diff(&["--database-url", db.url(), "--check"]);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));
    db.connect()
        .unwrap()
        .batch_execute(
            "INSERT INTO users (name, email, mood) VALUES ('ann', 'a@x', 'happy');
                        INSERT INTO posts (author_id, title) VALUES (1, 'hello')",
        )
        .unwrap();

    p.write_schema(V2);
    let check = p.diff(&["--check"]);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check));
    let out = p.diff(&["--name", "second"]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "rename column public.posts.title to headline",
        "add labels to enum public.mood: meh",
        "add column public.users.karma",
        "change type of public.users.name",
        "set NOT NULL on public.users.email [online]",
        "create index users_email_lower_idx on public.users [online]",
        "validate check posts_title_len",
    ] {
        assert!(
            summary.contains(expected),
            "missing `{expected}` in:\n{summary}"
        );
    }
    let folders = p.migration_folders();
    assert_eq!(folders.len(), 3, "{folders:?}");
    assert!(folders[2].ends_with("_second_online"), "{folders:?}");
    let online =
        std::fs::read_to_string(Path::new(&migrations).join(&folders[2]).join("up.sql")).unwrap();
    assert!(
        online.starts_with("-- lifeguard:no-transaction\n"),
        "{online}"
    );
    assert!(online.contains("CREATE INDEX CONCURRENTLY"), "{online}");

    let run = lifeguard(&[
        "migrate",
        "run",
        "--migrations",
        &migrations,
        "--database-url",
        db.url(),
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let drift = p.diff(&["--database-url", db.url(), "--check"]);
    assert_eq!(
        drift.status.code(),
        Some(0),
        "the live database converged: {}",
        text(&drift)
    );
    let again = p.diff(&["--check"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "the replay converged: {}",
        text(&again)
    );
    let (headline,): (String,) = lifeguard::LifeExecutor::query_one_as(
        &db.connect().unwrap(),
        "SELECT headline FROM posts",
        &[],
    )
    .unwrap();
    assert_eq!(headline, "hello", "the rename kept the data");

    // Revert both migrations of the second change: the first schema is back.
    let revert = lifeguard(&[
        "migrate",
        "revert",
        "--steps",
        "2",
        "--migrations",
        &migrations,
        "--database-url",
        db.url(),
    ]);
    assert!(revert.status.success(), "{}", text(&revert));
    p.write_schema(V1);
    let back = p.diff(&["--database-url", db.url(), "--check"]);
    assert_eq!(
        back.status.code(),
        Some(0),
        "down restored the first schema: {}",
        text(&back)
    );
    let status = lifeguard(&[
        "migrate",
        "status",
        "--migrations",
        &migrations,
        "--database-url",
        db.url(),
    ]);
    let s = String::from_utf8_lossy(&status.stdout);
    assert_eq!(s.matches("pending").count(), 2, "{s}");
}

#[test]
fn destructive_changes_write_nothing_without_consent() {
    let p = Project::new("destructive");
    p.write_schema(V1);
    assert!(p.diff(&["--name", "init"]).status.success());
    p.write_schema(&V1.replace("        email -> Nullable<Text>,\n", ""));
    let out = p.diff(&["--name", "drop_email"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("drop column public.users.email"), "{err}");
    assert!(err.contains("--allow-destructive"), "{err}");
    assert_eq!(p.migration_folders().len(), 1, "nothing written");
    let out = p.diff(&["--name", "drop_email", "--allow-destructive"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(p.migration_folders().len(), 2);
}

#[test]
fn a_malformed_schema_file_is_located_and_nothing_is_written() {
    let p = Project::new("malformed");
    p.write_schema("lifeguard::table! {\n    users (id) {\n        id -> Int4\n        name -> Text,\n    }\n}\n");
    let out = p.diff(&["--name", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schema.rs:4:"),
        "file:line:column expected: {err}"
    );
    assert!(p.migration_folders().is_empty());
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let p = Project::new("dry");
    p.write_schema(V1);
    let out = p.diff(&["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("CREATE TABLE \"public\".\"users\""), "{s}");
    assert!(s.contains("down.sql"), "{s}");
    assert!(p.migration_folders().is_empty());
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["diff", "--help"],
        &["migrate", "--help"],
        &["migrate", "run", "--help"],
        &["migrate", "revert", "--help"],
        &["migrate", "status", "--help"],
        &["print-schema", "--help"],
    ] {
        let out = lifeguard(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn print_schema_of_a_raw_sql_database_then_diff_finds_nothing() {
    let db = TestDatabase::create().unwrap();
    db.connect()
        .unwrap()
        .batch_execute(
            "CREATE TYPE status AS ENUM ('new', 'done');
             CREATE TABLE accounts (
                 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 handle varchar(40) NOT NULL UNIQUE,
                 balance numeric NOT NULL DEFAULT 0 CHECK (balance >= 0),
                 created timestamptz NOT NULL DEFAULT now());
             COMMENT ON TABLE accounts IS 'Money holders.';
             CREATE TABLE entries (
                 id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                 amount numeric NOT NULL,
                 state status NOT NULL DEFAULT 'new',
                 note text);
             CREATE INDEX entries_account_idx ON entries (account_id, id) WHERE state = 'new';",
        )
        .unwrap();
    let p = Project::new("print");
    let schema = p.schema();
    let out = lifeguard(&["print-schema", "--database-url", db.url(), "-o", &schema]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = std::fs::read_to_string(&schema).unwrap();
    assert!(printed.contains("lifeguard::table!"), "{printed}");
    let check = p.diff(&["--database-url", db.url(), "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}\n{printed}", text(&check));
}
