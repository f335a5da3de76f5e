//! Named contexts: servers the command line remembers by name (`zanzi
//! context set prod --remote URL`), so that remote commands need no URL
//! and token on every call.
//!
//! The contexts live in one YAML file, `contexts.yaml`, in
//! `$ZANZI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/zanzi`, else
//! `~/.config/zanzi`. It is written whole to a temporary file that is
//! renamed over the old one (a reader never sees half a file), with mode
//! 0600 because it may hold tokens.
//!
//! [`resolve`] decides once per command which server it speaks to:
//! explicit flags (and their environment variables) first, then the context
//! `--context` (`ZANZI_CONTEXT`) names, then the current context. Without
//! any of them the command runs on the local database.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::client::Connection;
use crate::tuple::yaml::{self, Node};

/// The file's name inside the configuration directory.
pub const FILE_NAME: &str = "contexts.yaml";

/// How one server is reached; every field may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub remote: Option<String>,
    pub write_remote: Option<String>,
    pub token: Option<String>,
    pub ca_cert: Option<PathBuf>,
}

/// The whole file: every context by name, and the one in use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contexts {
    pub current: Option<String>,
    pub contexts: BTreeMap<String, Context>,
}

/// Why the contexts could not be read, written or used.
#[derive(Clone, Debug, Error)]
pub enum ContextError {
    #[error(
        "cannot tell where contexts are kept: set ZANZI_CONFIG_DIR (or XDG_CONFIG_HOME, or HOME)"
    )]
    NoConfigDir,
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("`{path}` line {line}: {message}")]
    Malformed {
        path: String,
        line: usize,
        message: String,
    },
    #[error("cannot write `{path}`: {reason}")]
    Write { path: String, reason: String },
    #[error("no context named `{name}` in `{path}`; {}", known_names(known))]
    Unknown {
        name: String,
        path: String,
        known: Vec<String>,
    },
    #[error("invalid context name `{0}`: use letters, digits, `-`, `_` and `.`")]
    InvalidName(String),
}

fn known_names(known: &[String]) -> String {
    if known.is_empty() {
        "there are none yet (`zanzi context set NAME --remote URL`)".to_owned()
    } else {
        format!("known contexts: {}", known.join(", "))
    }
}

/// Whether `name` can name a context: short words a shell passes as is.
pub fn check_name(name: &str) -> Result<(), ContextError> {
    let fine = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(ContextError::InvalidName(name.to_owned()))
    }
}

/// Where the contexts file is, from the environment `var` reads.
pub fn location_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    // Empty or relative values are ignored, as the XDG specification asks.
    let dir = |name: &str| {
        var(name)
            .map(PathBuf::from)
            .filter(|p| !p.as_os_str().is_empty())
    };
    if let Some(dir) = dir("ZANZI_CONFIG_DIR") {
        return Some(dir.join(FILE_NAME));
    }
    if let Some(xdg) = dir("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("zanzi").join(FILE_NAME));
    }
    dir("HOME").map(|home| home.join(".config").join("zanzi").join(FILE_NAME))
}

/// Where the contexts file is.
pub fn location() -> Result<PathBuf, ContextError> {
    location_from(|name| std::env::var_os(name)).ok_or(ContextError::NoConfigDir)
}

impl Contexts {
    /// Reads the file at `path`; a missing file holds no contexts.
    pub fn load(path: &Path) -> Result<Contexts, ContextError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Contexts::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Contexts::default()),
            Err(e) => Err(ContextError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Reads the text of a contexts file (`path` names it in errors).
    pub fn parse(path: &str, text: &str) -> Result<Contexts, ContextError> {
        let malformed = |at: usize, message: String| ContextError::Malformed {
            path: path.to_owned(),
            line: line_of(text, at),
            message,
        };
        let root = match yaml::parse(text) {
            Ok(Some(root)) if !root.is_null() => root,
            Ok(_) => return Ok(Contexts::default()),
            Err(e) => return Err(malformed(e.at, e.message)),
        };
        let Node::Map(entries, _) = &root else {
            return Err(malformed(
                root.at(),
                format!(
                    "expected a mapping with `current` and `contexts`, found {}",
                    root.describe()
                ),
            ));
        };
        let mut contexts = Contexts::default();
        let mut current_at = 0;
        for (key, value) in entries {
            match key.as_str() {
                Some("current") => {
                    contexts.current =
                        scalar(value, "`current`").map_err(|m| malformed(value.at(), m))?;
                    current_at = value.at();
                }
                Some("contexts") => {
                    if value.is_null() {
                        continue;
                    }
                    let Node::Map(named, _) = value else {
                        return Err(malformed(
                            value.at(),
                            format!(
                                "`contexts` must be a mapping of names to contexts, found {}",
                                value.describe()
                            ),
                        ));
                    };
                    for (name, context) in named {
                        let Some(name) = name.as_str() else {
                            return Err(malformed(
                                name.at(),
                                "a context's name must be a single value".into(),
                            ));
                        };
                        check_name(name).map_err(|e| malformed(context.at(), e.to_string()))?;
                        let context =
                            read_context(name, context).map_err(|(at, m)| malformed(at, m))?;
                        if contexts.contexts.insert(name.to_owned(), context).is_some() {
                            return Err(malformed(
                                value.at(),
                                format!("context `{name}` is defined twice"),
                            ));
                        }
                    }
                }
                other => {
                    return Err(malformed(
                        key.at(),
                        format!(
                            "unknown key `{}`; the file holds `current` and `contexts`",
                            other.unwrap_or("?")
                        ),
                    ))
                }
            }
        }
        if let Some(current) = &contexts.current {
            if !contexts.contexts.contains_key(current) {
                return Err(malformed(
                    current_at,
                    format!("`current` names the context `{current}`, which is not defined"),
                ));
            }
        }
        Ok(contexts)
    }

    /// The context `name`.
    pub fn get(&self, name: &str, path: &Path) -> Result<&Context, ContextError> {
        self.contexts
            .get(name)
            .ok_or_else(|| ContextError::Unknown {
                name: name.to_owned(),
                path: path.display().to_string(),
                known: self.contexts.keys().cloned().collect(),
            })
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = String::from("# zanzi's named contexts; see `zanzi context --help`.\n");
        if let Some(current) = &self.current {
            text.push_str(&format!("current: {}\n", quoted(current)));
        }
        text.push_str("contexts:");
        if self.contexts.is_empty() {
            text.push_str(" {}");
        }
        text.push('\n');
        for (name, context) in &self.contexts {
            text.push_str(&format!("  {}:", quoted(name)));
            let fields = [
                ("remote", context.remote.clone()),
                ("write_remote", context.write_remote.clone()),
                ("token", context.token.clone()),
                (
                    "ca_cert",
                    context.ca_cert.as_ref().map(|p| p.display().to_string()),
                ),
            ];
            if fields.iter().all(|(_, value)| value.is_none()) {
                text.push_str(" {}");
            }
            text.push('\n');
            for (key, value) in fields {
                if let Some(value) = value {
                    text.push_str(&format!("    {key}: {}\n", quoted(&value)));
                }
            }
        }
        text
    }

    /// Writes the file at `path` atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), ContextError> {
        let write_error = |e: std::io::Error| ContextError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(write_error)?;
        let temporary = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let written = write_private(&temporary, self.render().as_bytes())
            .and_then(|()| std::fs::rename(&temporary, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.map_err(write_error)
    }
}

/// Writes a new file that only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // A file left by an earlier crash keeps its mode: set it again.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A YAML double-quoted scalar (JSON's escapes are YAML's too).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The text of a scalar (`None` for null); `what` names it in the message.
fn scalar(node: &Node, what: &str) -> Result<Option<String>, String> {
    if node.is_null() {
        return Ok(None);
    }
    node.as_str()
        .map(|s| Some(s.to_owned()))
        .ok_or_else(|| format!("{what} must be a single value, found {}", node.describe()))
}

/// One context's mapping; errors carry the offset they point at.
fn read_context(name: &str, node: &Node) -> Result<Context, (usize, String)> {
    let mut context = Context::default();
    if node.is_null() {
        return Ok(context);
    }
    let Node::Map(entries, _) = node else {
        return Err((
            node.at(),
            format!(
                "context `{name}` must be a mapping (remote, write_remote, token, ca_cert), found {}",
                node.describe()
            ),
        ));
    };
    for (key, value) in entries {
        let key_name = key.as_str().unwrap_or("?");
        let what = format!("`{key_name}` of context `{name}`");
        let text = scalar(value, &what).map_err(|m| (value.at(), m))?;
        match key_name {
            "remote" => context.remote = text,
            "write_remote" => context.write_remote = text,
            "token" => context.token = text,
            "ca_cert" => context.ca_cert = text.map(PathBuf::from),
            other => {
                return Err((
                    key.at(),
                    format!(
                        "unknown key `{other}` in context `{name}`; a context has remote, \
                         write_remote, token and ca_cert"
                    ),
                ))
            }
        }
    }
    Ok(context)
}

/// The connection a command uses, given what its flags say (`explicit`)
/// and the context `--context` names: see the module's documentation.
pub fn resolve(explicit: &Connection, named: Option<&str>) -> Result<Connection, ContextError> {
    // Explicit URLs without --context: the file is not even read.
    if named.is_none() && (explicit.read.is_some() || explicit.write.is_some()) {
        return Ok(explicit.clone());
    }
    let path = match (location(), named) {
        (Ok(path), _) => path,
        // Nowhere to keep contexts: there is no current one either.
        (Err(_), None) => return Ok(explicit.clone()),
        (Err(e), Some(_)) => return Err(e),
    };
    resolve_in(&path, explicit, named)
}

/// [`resolve`] with the contexts file at `path`.
pub fn resolve_in(
    path: &Path,
    explicit: &Connection,
    named: Option<&str>,
) -> Result<Connection, ContextError> {
    if named.is_none() && (explicit.read.is_some() || explicit.write.is_some()) {
        return Ok(explicit.clone());
    }
    let contexts = Contexts::load(path)?;
    let context = match (named, contexts.current.as_deref()) {
        (Some(name), _) | (None, Some(name)) => contexts.get(name, path)?,
        (None, None) => return Ok(explicit.clone()),
    };
    Ok(Connection {
        read: explicit.read.clone().or_else(|| context.remote.clone()),
        write: explicit
            .write
            .clone()
            .or_else(|| context.write_remote.clone()),
        token: explicit.token.clone().or_else(|| context.token.clone()),
        ca_cert: explicit.ca_cert.clone().or_else(|| context.ca_cert.clone()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn prod() -> Context {
        Context {
            remote: Some("https://authz.example:4466".into()),
            write_remote: Some("https://authz.example:4467".into()),
            token: Some("s3cr\"et".into()),
            ca_cert: Some(PathBuf::from("/etc/ca.pem")),
        }
    }

    #[test]
    fn a_rendered_file_reads_back_the_same() {
        let mut contexts = Contexts {
            current: Some("prod".into()),
            ..Contexts::default()
        };
        contexts.contexts.insert("prod".into(), prod());
        contexts.contexts.insert("empty".into(), Context::default());
        let text = contexts.render();
        assert_eq!(Contexts::parse("c.yaml", &text).unwrap(), contexts);
        assert_eq!(
            Contexts::parse("c.yaml", &Contexts::default().render()).unwrap(),
            Contexts::default()
        );
    }

    #[test]
    fn a_malformed_file_names_the_line_and_the_key() {
        let text = "current: prod\ncontexts:\n  prod:\n    remote: http://a\n    tokn: x\n";
        let err = Contexts::parse("c.yaml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("`c.yaml` line 5: unknown key `tokn`"),
            "{err}"
        );
        let text = "contexts:\n  prod:\n    remote: [a, b]\n";
        let err = Contexts::parse("c.yaml", text).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("`remote` of context `prod`"), "{err}");
        let text = "current: gone\ncontexts: {}\n";
        let err = Contexts::parse("c.yaml", text).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("`gone`"), "{err}");
        let err = Contexts::parse("c.yaml", "contexts: [\n").unwrap_err();
        assert!(matches!(err, ContextError::Malformed { .. }), "{err}");
    }

    #[test]
    fn the_file_is_found_by_the_environment() {
        fn env<'a>(
            pairs: &'a [(&'static str, &'static str)],
        ) -> impl Fn(&str) -> Option<std::ffi::OsString> + 'a {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        }
        let both = [
            ("ZANZI_CONFIG_DIR", "/z"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            location_from(env(&both)),
            Some(PathBuf::from("/z/contexts.yaml"))
        );
        let xdg = [("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(
            location_from(env(&xdg)),
            Some(PathBuf::from("/x/zanzi/contexts.yaml"))
        );
        let relative = [("XDG_CONFIG_HOME", "x"), ("HOME", "/h")];
        assert_eq!(
            location_from(env(&relative)),
            Some(PathBuf::from("/h/.config/zanzi/contexts.yaml"))
        );
        assert_eq!(location_from(env(&[])), None);
    }

    #[test]
    fn flags_win_over_a_named_context_which_wins_over_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut contexts = Contexts {
            current: Some("prod".into()),
            ..Contexts::default()
        };
        contexts.contexts.insert("prod".into(), prod());
        contexts.contexts.insert(
            "dev".into(),
            Context {
                remote: Some("http://dev:4466".into()),
                ..Context::default()
            },
        );
        contexts.save(&path).unwrap();
        let none = Connection::default();
        let current = resolve_in(&path, &none, None).unwrap();
        assert_eq!(current.read.as_deref(), Some("https://authz.example:4466"));
        assert_eq!(current.token.as_deref(), Some("s3cr\"et"));
        let dev = resolve_in(&path, &none, Some("dev")).unwrap();
        assert_eq!(dev.read.as_deref(), Some("http://dev:4466"));
        assert_eq!(dev.token, None);
        let token = Connection {
            token: Some("mine".into()),
            ..Connection::default()
        };
        let mixed = resolve_in(&path, &token, Some("prod")).unwrap();
        assert_eq!(mixed.token.as_deref(), Some("mine"));
        assert_eq!(mixed.write.as_deref(), Some("https://authz.example:4467"));
        let err = resolve_in(&path, &none, Some("staging"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("known contexts: dev, prod"), "{err}");
    }
}
