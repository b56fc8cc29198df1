//! Migrations as data: loaded from `migrations/<version>_<name>/{up,down}.sql` folders or
//! from strings embedded in the binary, validated, ordered by version and checksummed.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::MigrateError;

/// The first line of an `up.sql` (or `down.sql`) that makes it run outside a transaction.
pub const NO_TRANSACTION_MARKER: &str = "-- lifeguard:no-transaction";

/// The checksum recorded for a migration: the SHA-256 (lowercase hex) of its `up.sql` with
/// line endings normalized to LF, so a checkout with CRLF line endings has the same checksum.
///
/// ```
/// assert_eq!(
///     lifeguard::migrate::checksum("SELECT 1;\r\n"),
///     lifeguard::migrate::checksum("SELECT 1;\n"),
/// );
/// ```
pub fn checksum(sql: &str) -> String {
    let normalized = sql.replace("\r\n", "\n");
    let digest = Sha256::digest(normalized.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether the script's first line is [`NO_TRANSACTION_MARKER`] (a leading BOM and
/// surrounding whitespace are ignored).
fn has_no_transaction_marker(sql: &str) -> bool {
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    sql.lines()
        .next()
        .is_some_and(|l| l.trim() == NO_TRANSACTION_MARKER)
}

/// Orders version strings numerically (`9` before `10`; leading zeros ignored).
pub(crate) fn cmp_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// One migration: a version, a name, the `up.sql` script and (usually) a `down.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    version: String,
    name: String,
    up: String,
    down: Option<String>,
    checksum: String,
    origin: String,
}

impl Migration {
    fn new(version: &str, name: &str, up: String, down: Option<String>, origin: String) -> Self {
        Migration {
            version: version.to_owned(),
            name: name.to_owned(),
            checksum: checksum(&up),
            up,
            down,
            origin,
        }
    }

    /// The version, e.g. `20261124183000` (the digits before the first `_` of the folder).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The name, e.g. `create_users` (what follows the first `_` of the folder).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `up.sql` script.
    pub fn up_sql(&self) -> &str {
        &self.up
    }

    /// The `down.sql` script; `None` when the folder has none (the migration cannot be
    /// reverted).
    pub fn down_sql(&self) -> Option<&str> {
        self.down.as_deref()
    }

    /// The checksum of `up.sql` (see [`checksum`]).
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// Whether `up.sql` starts with [`NO_TRANSACTION_MARKER`]: it then runs statement by
    /// statement outside a transaction (for `CREATE INDEX CONCURRENTLY` and the like).
    pub fn no_transaction(&self) -> bool {
        has_no_transaction_marker(&self.up)
    }

    /// Whether `down.sql` starts with [`NO_TRANSACTION_MARKER`].
    pub fn down_no_transaction(&self) -> bool {
        self.down.as_deref().is_some_and(has_no_transaction_marker)
    }

    /// Where the migration comes from: its folder, or `embedded migration <version>_<name>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `<version>_<name>`, the folder name.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// A validated set of migrations, ordered by version.
///
/// Load them from a folder at run time with [`from_dir`](Self::from_dir):
///
/// ```no_run
/// let migrations = lifeguard::migrate::Migrations::from_dir("migrations")?;
/// # Ok::<(), lifeguard::migrate::MigrateError>(())
/// ```
///
/// or embed them in the binary with [`from_static`](Self::from_static) and `include_str!`.
/// A `macro_rules!` macro cannot list a directory, so the list is written out (the compiler
/// still checks that every file exists; paths are relative to the source file):
///
/// ```ignore
/// static MIGRATIONS: &[(&str, &str, &str, &str)] = &[
///     (
///         "20261124183000",
///         "create_users",
///         include_str!("../migrations/20261124183000_create_users/up.sql"),
///         include_str!("../migrations/20261124183000_create_users/down.sql"),
///     ),
///     // one entry per migration folder
/// ];
/// let migrations = lifeguard::migrate::Migrations::from_static(MIGRATIONS)?;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    list: Vec<Migration>,
}

impl Migrations {
    /// Loads every `<version>_<name>/` folder of `dir` (each with an `up.sql` and usually a
    /// `down.sql`). Plain files and hidden folders (`.name`) in `dir` are ignored. A folder
    /// that is not named `<digits>_<name>`, a folder without `up.sql`, a script that is not
    /// UTF-8 and two folders with the same version are errors naming the path.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, MigrateError> {
        let dir = dir.as_ref();
        let io = |path: &Path, source| MigrateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut folders: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let path = entry.path();
            let is_dir = std::fs::metadata(&path).map_err(|e| io(&path, e))?.is_dir();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if is_dir && !hidden {
                folders.push(path);
            }
        }
        folders.sort();
        let mut list = Vec::with_capacity(folders.len());
        for path in folders {
            let Some(folder) = path.file_name().and_then(|n| n.to_str()) else {
                return Err(MigrateError::BadFolderName {
                    path,
                    reason: "the name is not valid UTF-8".into(),
                });
            };
            let (version, name) = match split_folder_name(folder) {
                Ok(parts) => parts,
                Err(reason) => return Err(MigrateError::BadFolderName { path, reason }),
            };
            let up_path = path.join("up.sql");
            if !up_path.is_file() {
                return Err(MigrateError::MissingUpSql { path: up_path });
            }
            let up = read_script(&up_path)?;
            let down_path = path.join("down.sql");
            let down = if down_path.is_file() {
                Some(read_script(&down_path)?)
            } else {
                None
            };
            let origin = path.display().to_string();
            list.push(Migration::new(version, name, up, down, origin));
        }
        Migrations::from_list(list)
    }

    /// Migrations embedded in the binary, as `(version, name, up_sql, down_sql)`; see the
    /// [type documentation](Self) for the `include_str!` pattern. Versions must be digits,
    /// names non-empty (letters, digits, `_`, `-`), versions unique.
    ///
    /// ```
    /// use lifeguard::migrate::Migrations;
    ///
    /// let migrations = Migrations::from_static(&[
    ///     ("20261124183000", "create_users", "CREATE TABLE users (id int8 PRIMARY KEY);", "DROP TABLE users;"),
    ///     ("20261125090000", "add_email", "ALTER TABLE users ADD email text;", "ALTER TABLE users DROP email;"),
    /// ])?;
    /// assert_eq!(migrations.len(), 2);
    /// # Ok::<(), lifeguard::migrate::MigrateError>(())
    /// ```
    pub fn from_static(
        migrations: &[(&str, &str, &str, &str)],
    ) -> Result<Migrations, MigrateError> {
        let mut list = Vec::with_capacity(migrations.len());
        for &(version, name, up, down) in migrations {
            let origin = format!("embedded migration {version}_{name}");
            if let Err(reason) = check_version(version).and_then(|()| check_name(name)) {
                return Err(MigrateError::BadEmbedded { origin, reason });
            }
            list.push(Migration::new(
                version,
                name,
                up.to_owned(),
                Some(down.to_owned()),
                origin,
            ));
        }
        Migrations::from_list(list)
    }

    fn from_list(mut list: Vec<Migration>) -> Result<Migrations, MigrateError> {
        list.sort_by(|a, b| cmp_versions(&a.version, &b.version));
        for pair in list.windows(2) {
            if cmp_versions(&pair[0].version, &pair[1].version) == Ordering::Equal {
                return Err(MigrateError::DuplicateVersion {
                    version: pair[1].version.clone(),
                    first: pair[0].origin.clone(),
                    second: pair[1].origin.clone(),
                });
            }
        }
        Ok(Migrations { list })
    }

    /// The migrations, in version order.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The migration with this version (leading zeros ignored), if any.
    pub fn get(&self, version: &str) -> Option<&Migration> {
        self.list
            .binary_search_by(|m| cmp_versions(&m.version, version))
            .ok()
            .map(|i| &self.list[i])
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

fn read_script(path: &Path) -> Result<String, MigrateError> {
    let bytes = std::fs::read(path).map_err(|source| MigrateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| MigrateError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// Splits `20261124183000_create_users` into its version and name.
fn split_folder_name(folder: &str) -> Result<(&str, &str), String> {
    let Some((version, name)) = folder.split_once('_') else {
        return Err(
            "expected <version>_<name>, e.g. 20261124183000_create_users (no `_` found)".into(),
        );
    };
    check_version(version)?;
    check_name(name)?;
    Ok((version, name))
}

fn check_version(version: &str) -> Result<(), String> {
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the version {version:?} must be digits, a UTC timestamp like 20261124183000"
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name after the version is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "the name {name:?} contains {c:?}; use letters, digits, `_` and `-`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_line_endings() {
        let lf = "CREATE TABLE a (id int);\nSELECT 1;\n";
        let crlf = "CREATE TABLE a (id int);\r\nSELECT 1;\r\n";
        assert_eq!(checksum(lf), checksum(crlf));
        assert_ne!(checksum(lf), checksum("CREATE TABLE a (id int8);\n"));
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn folder_names() {
        assert_eq!(
            split_folder_name("20261124183000_create_users"),
            Ok(("20261124183000", "create_users"))
        );
        assert!(split_folder_name("create_users").is_err());
        assert!(split_folder_name("2026x_create").is_err());
        assert!(split_folder_name("20261124183000_").is_err());
        assert!(split_folder_name("20261124183000").is_err());
        assert!(split_folder_name("20261124183000_a b").is_err());
    }

    #[test]
    fn versions_order_numerically() {
        assert_eq!(cmp_versions("9", "10"), Ordering::Less);
        assert_eq!(cmp_versions("010", "10"), Ordering::Equal);
        assert_eq!(
            cmp_versions("20261124183000", "20261124183001"),
            Ordering::Less
        );
    }

    #[test]
    fn marker_on_the_first_line_only() {
        assert!(has_no_transaction_marker(
            "-- lifeguard:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"
        ));
        assert!(has_no_transaction_marker(
            "\u{feff}-- lifeguard:no-transaction  \r\nSELECT 1;"
        ));
        assert!(!has_no_transaction_marker(
            "SELECT 1;\n-- lifeguard:no-transaction\n"
        ));
    }

    #[test]
    fn static_migrations_are_validated_and_ordered() {
        let m = Migrations::from_static(&[("2", "b", "SELECT 2", ""), ("1", "a", "SELECT 1", "")])
            .unwrap();
        let versions: Vec<_> = m.iter().map(|m| m.version()).collect();
        assert_eq!(versions, ["1", "2"]);
        let e = Migrations::from_static(&[("1", "a", "", ""), ("01", "b", "", "")]).unwrap_err();
        assert!(matches!(e, MigrateError::DuplicateVersion { .. }), "{e}");
        let e = Migrations::from_static(&[("v1", "a", "", "")]).unwrap_err();
        assert!(matches!(e, MigrateError::BadEmbedded { .. }), "{e}");
    }
}
