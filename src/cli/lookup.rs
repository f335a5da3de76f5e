//! `zanzi lookup-resources` and `zanzi lookup-subjects`: which objects a
//! subject reaches, and which subjects reach an object.
//!
//! Both are paged by an opaque token (`--cursor`) that also pins the
//! revision of the first page, so that a listing taken page by page is one
//! consistent snapshot even while others write.
//!
//! With `--remote` (or a context) the server answers, and the output is the
//! local one with the server's snapshot token in place of the revision:
//! resources are paged by the server's page tokens, subjects are answered
//! whole and cut into pages here, with cursors that carry the snapshot
//! token.

use std::process::ExitCode;

use serde::Serialize;

use miette::miette;

use super::check::{engine_error, DepthArgs, RequestArgs};
use super::local::{self, AtArgs, DbArgs, LocalPageToken, ReportFormat, SchemaArgs, JSON_VERSION};
use super::remote::{at_with_remote, RemoteArgs};
use super::ColorMode;
use crate::api::native::ConditionalId;
use crate::client::ReadOptions;
use crate::engine::{Engine, EngineOptions};
use crate::store::{PageRequest, Revision};
use crate::tuple::{encode_id, parse_object_relation, Notation, Object, Subject};

/// The snapshot an answer was read at: a local revision, or a server's
/// snapshot token (the `revision` or `snaptoken` field of the JSON).
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum At<'a> {
    Revision(Revision),
    Snaptoken(&'a str),
}

/// `--limit` and `--cursor`.
#[derive(Debug, Clone, clap::Args)]
pub struct PageArgs {
    /// Return at most N results, and a cursor for the next page when there
    /// are more. Default: every result.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Continue after the page that printed this cursor.
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

impl PageArgs {
    fn token(&self) -> miette::Result<Option<LocalPageToken>> {
        self.cursor
            .as_deref()
            .map(LocalPageToken::decode)
            .transpose()
    }

    fn limit(&self) -> usize {
        self.limit
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[derive(Debug, clap::Args)]
pub struct ResourcesArgs {
    /// The namespace of the objects to find: `document`.
    pub namespace: String,
    /// The relation or permission they must grant: `view`.
    pub permission: String,
    /// The subject: `user:alice`, or a subject set `group:eng#member`.
    pub subject: String,
    #[command(flatten)]
    pub page: PageArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub depth: DepthArgs,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` document of `zanzi lookup-resources`.
#[derive(Serialize)]
struct ResourcesReport<'a> {
    version: u32,
    namespace: &'a str,
    permission: &'a str,
    subject: &'a str,
    #[serde(flatten)]
    at: At<'a>,
    /// Raw IDs (not percent-encoded), sorted.
    resource_ids: &'a [String],
    /// The objects whose answer depends on missing parameters.
    conditional: &'a [ConditionalId],
    next_cursor: Option<String>,
}

pub fn run_resources(args: &ResourcesArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let subject: Subject = args
        .subject
        .parse()
        .map_err(|e| local::notation_error(Notation::Subject, &args.subject, &e))?;
    if args.remote.is_remote()? {
        return remote_resources(args, &subject);
    }
    let token = args.page.token()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let at = local::read_revision(&*store, db, args.at.at, token.as_ref())?;
    let context = args.request.request(&resolved.schema)?;
    let engine = Engine::new(&resolved.schema, &*store)
        .with_options(EngineOptions {
            max_depth: args.depth.max_depth,
        })
        .with_request(&context);
    let request = PageRequest {
        cursor: token.map(|t| t.position),
        limit: args.page.limit(),
    };
    let page = engine
        .lookup_resources_decided(
            &args.namespace,
            &args.permission,
            &subject,
            &request,
            at,
            true,
        )
        .map_err(engine_error)?;
    let (ids, conditional) = crate::api::native::split_decided(page.items);
    let next_cursor = page.next_cursor.map(|position| {
        LocalPageToken {
            revision: at,
            position,
        }
        .encode()
    });
    let found = Found {
        ids: &ids,
        conditional: &conditional,
    };
    print_resources(args, &subject, At::Revision(at), &found, next_cursor)
}

/// IDs found: those in the set, and those in it depending on missing
/// parameters.
struct Found<'a> {
    ids: &'a [String],
    conditional: &'a [ConditionalId],
}

/// `ns:id (conditional: missing a, b)`.
fn conditional_line(ns: &str, c: &ConditionalId) -> String {
    format!(
        "{ns}:{} (conditional: missing {})\n",
        encode_id(&c.id),
        c.missing.join(", ")
    )
}

/// Prints the objects found, as `--format` asks.
fn print_resources(
    args: &ResourcesArgs,
    subject: &Subject,
    at: At<'_>,
    found: &Found<'_>,
    next_cursor: Option<String>,
) -> miette::Result<ExitCode> {
    match args.format {
        ReportFormat::Json => local::print_json(&ResourcesReport {
            version: JSON_VERSION,
            namespace: &args.namespace,
            permission: &args.permission,
            subject: &subject.to_string(),
            at,
            resource_ids: found.ids,
            conditional: found.conditional,
            next_cursor,
        })?,
        ReportFormat::Human => {
            let mut text: String = found
                .ids
                .iter()
                .map(|id| format!("{}:{}\n", args.namespace, encode_id(id)))
                .collect();
            for c in found.conditional {
                text.push_str(&conditional_line(&args.namespace, c));
            }
            local::print(&text)?;
            if let Some(cursor) = next_cursor {
                eprintln!("more results: --cursor {cursor}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `zanzi lookup-resources --remote URL`: the server's pages, read at one
/// snapshot, until `--limit` objects (or all of them); the cursor is the
/// server's page token.
fn remote_resources(args: &ResourcesArgs, subject: &Subject) -> miette::Result<ExitCode> {
    if args.at.at.is_some() {
        return Err(at_with_remote());
    }
    let client = args.remote.reader()?;
    let options = args
        .request
        .remote_options(&args.remote, Some(args.depth.max_depth))?;
    let mut ids: Vec<String> = Vec::new();
    let mut conditional: Vec<ConditionalId> = Vec::new();
    let mut token = args.page.cursor.clone();
    let mut snaptoken = None;
    let next_cursor = loop {
        let wanted = args
            .page
            .limit
            .map(|limit| limit.saturating_sub((ids.len() + conditional.len()) as u64));
        let page = client
            .lookup_resources(
                &args.namespace,
                &args.permission,
                subject,
                &options,
                wanted,
                token.as_deref(),
            )
            .map_err(|e| miette!("{e}"))?;
        ids.extend(page.object_ids);
        conditional.extend(page.conditional);
        snaptoken.get_or_insert(page.snaptoken);
        if page.next_page_token.is_empty() {
            break None;
        }
        if args
            .page
            .limit
            .is_some_and(|limit| (ids.len() + conditional.len()) as u64 >= limit)
        {
            break Some(page.next_page_token);
        }
        token = Some(page.next_page_token);
    };
    let snaptoken = snaptoken.unwrap_or_default();
    let found = Found {
        ids: &ids,
        conditional: &conditional,
    };
    print_resources(
        args,
        subject,
        At::Snaptoken(&snaptoken),
        &found,
        next_cursor,
    )
}

#[derive(Debug, clap::Args)]
pub struct SubjectsArgs {
    /// The object and permission: `document:readme#view`.
    #[arg(value_name = "OBJECT#PERMISSION")]
    pub userset: String,
    /// The namespace of the subjects to find: `user`.
    pub subject_namespace: String,
    #[command(flatten)]
    pub page: PageArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub depth: DepthArgs,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` document of `zanzi lookup-subjects`.
#[derive(Serialize)]
struct SubjectsReport<'a> {
    version: u32,
    object: &'a str,
    permission: &'a str,
    subject_namespace: &'a str,
    #[serde(flatten)]
    at: At<'a>,
    /// Raw IDs of the subjects named by tuples that are in the set, sorted.
    subject_ids: &'a [String],
    /// Every subject of the namespace is in the set, except `excluded`.
    wildcard: bool,
    /// With `wildcard`: raw IDs of the subjects that are not in the set.
    excluded: &'a [String],
    /// Subjects in the set depending on missing parameters.
    conditional: &'a [ConditionalId],
    /// Present when the wildcard depends on these missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    wildcard_missing: Option<&'a [String]>,
    next_cursor: Option<String>,
}

pub fn run_subjects(args: &SubjectsArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let (object, permission) = parse_object_relation(&args.userset)
        .map_err(|e| local::notation_error(Notation::Userset, &args.userset, &e))?;
    if args.remote.is_remote()? {
        return remote_subjects(args, &object, &permission);
    }
    let token = args.page.token()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let at = local::read_revision(&*store, db, args.at.at, token.as_ref())?;
    let context = args.request.request(&resolved.schema)?;
    let engine = Engine::new(&resolved.schema, &*store)
        .with_options(EngineOptions {
            max_depth: args.depth.max_depth,
        })
        .with_request(&context);
    let found = engine
        .lookup_subjects(&object, &permission, &args.subject_namespace, at)
        .map_err(engine_error)?;
    // The engine answers in full, sorted by ID; pages are cut from that.
    let after = token.as_ref().map(|t| t.position.as_str());
    let (ids, last) = cut_page(&found.subject_ids, after, args.page.limit());
    let next_cursor = last.map(|position| {
        LocalPageToken {
            revision: at,
            position,
        }
        .encode()
    });
    let conditional: Vec<ConditionalId> = found.conditional.into_iter().map(Into::into).collect();
    let found = Subjects {
        object: &object,
        permission: &permission,
        ids: &ids,
        wildcard: found.wildcard,
        excluded: &found.excluded,
        conditional: &conditional,
        wildcard_missing: found.wildcard_missing.as_deref(),
    };
    print_subjects(args, &found, At::Revision(at), token.is_none(), next_cursor)
}

/// One page of the subjects found, for printing.
struct Subjects<'a> {
    object: &'a Object,
    permission: &'a str,
    ids: &'a [String],
    wildcard: bool,
    excluded: &'a [String],
    /// Given whole, with the first page.
    conditional: &'a [ConditionalId],
    wildcard_missing: Option<&'a [String]>,
}

/// The IDs after `after`, at most `limit` of them, and the last one when
/// more follow (where the next page starts).
fn cut_page(sorted: &[String], after: Option<&str>, limit: usize) -> (Vec<String>, Option<String>) {
    let mut rest = sorted
        .iter()
        .filter(|id| after.is_none_or(|after| id.as_str() > after));
    let ids: Vec<String> = rest.by_ref().take(limit).cloned().collect();
    let last = match (rest.next(), ids.last()) {
        (Some(_), Some(last)) => Some(last.clone()),
        _ => None,
    };
    (ids, last)
}

/// Prints a page of subjects as `--format` asks; the wildcard line only on
/// the first page.
fn print_subjects(
    args: &SubjectsArgs,
    found: &Subjects<'_>,
    at: At<'_>,
    first_page: bool,
    next_cursor: Option<String>,
) -> miette::Result<ExitCode> {
    let ns = &args.subject_namespace;
    match args.format {
        ReportFormat::Json => local::print_json(&SubjectsReport {
            version: JSON_VERSION,
            object: &found.object.to_string(),
            permission: found.permission,
            subject_namespace: ns,
            at,
            subject_ids: found.ids,
            wildcard: found.wildcard,
            excluded: found.excluded,
            conditional: if first_page { found.conditional } else { &[] },
            wildcard_missing: found.wildcard_missing.filter(|_| first_page),
            next_cursor,
        })?,
        ReportFormat::Human => {
            let mut text = String::new();
            if found.wildcard && first_page {
                text.push_str(&format!("{ns}:*"));
                if !found.excluded.is_empty() {
                    let excluded: Vec<String> = found
                        .excluded
                        .iter()
                        .map(|id| format!("{ns}:{}", encode_id(id)))
                        .collect();
                    text.push_str(&format!(" (except {})", excluded.join(", ")));
                }
                text.push('\n');
            }
            if let (Some(missing), true) = (found.wildcard_missing, first_page) {
                text.push_str(&format!(
                    "{ns}:* (conditional: missing {})\n",
                    missing.join(", ")
                ));
            }
            for id in found.ids {
                text.push_str(&format!("{ns}:{}\n", encode_id(id)));
            }
            if first_page {
                for c in found.conditional {
                    text.push_str(&conditional_line(ns, c));
                }
            }
            local::print(&text)?;
            if let Some(cursor) = next_cursor {
                eprintln!("more results: --cursor {cursor}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A cursor of `zanzi lookup-subjects --remote`: the server's snapshot
/// token and the last ID printed (hex), so that the next page is read at
/// the same snapshot and starts after it.
fn remote_cursor(snaptoken: &str, position: &str) -> String {
    let hex = super::local::paging::hex_text(position);
    format!("{snaptoken}.{hex}")
}

fn parse_remote_cursor(cursor: &str) -> miette::Result<(String, String)> {
    let invalid = || {
        miette!(
            help = "pass the cursor exactly as the previous page printed it",
            "invalid cursor `{cursor}`"
        )
    };
    let (snaptoken, hex) = cursor.rsplit_once('.').ok_or_else(invalid)?;
    if snaptoken.is_empty() {
        return Err(invalid());
    }
    let position = super::local::paging::text_of_hex(hex).ok_or_else(invalid)?;
    Ok((snaptoken.to_owned(), position))
}

/// `zanzi lookup-subjects --remote URL`: the server's answer, cut into
/// pages as locally; a cursor reads the next page at the first one's
/// snapshot.
fn remote_subjects(
    args: &SubjectsArgs,
    object: &Object,
    permission: &str,
) -> miette::Result<ExitCode> {
    if args.at.at.is_some() {
        return Err(at_with_remote());
    }
    let cursor = args
        .page
        .cursor
        .as_deref()
        .map(parse_remote_cursor)
        .transpose()?;
    let options = match &cursor {
        Some((snaptoken, _)) => ReadOptions {
            consistency: Some("at_exact_snapshot".to_owned()),
            snaptoken: Some(snaptoken.clone()),
            max_depth: Some(args.depth.max_depth),
            ..ReadOptions::default()
        },
        None => args.remote.options(Some(args.depth.max_depth)),
    };
    let request = &args.request;
    let options = ReadOptions {
        context: request.context()?,
        contextual_tuples: request.tuples()?,
        ..options
    };
    if args.request.now.is_some() {
        return Err(miette!(
            "--now cannot be sent to a server: it decides expiry by its own clock"
        ));
    }
    let answer = args
        .remote
        .reader()?
        .lookup_subjects(object, permission, &args.subject_namespace, &options)
        .map_err(|e| miette!("{e}"))?;
    let after = cursor.as_ref().map(|(_, position)| position.as_str());
    let (ids, last) = cut_page(&answer.subject_ids, after, args.page.limit());
    let next_cursor = last.map(|position| remote_cursor(&answer.snaptoken, &position));
    let found = Subjects {
        object,
        permission,
        ids: &ids,
        wildcard: answer.wildcard,
        excluded: &answer.excluded,
        conditional: &answer.conditional,
        wildcard_missing: answer.wildcard_missing.as_deref(),
    };
    print_subjects(
        args,
        &found,
        At::Snaptoken(&answer.snaptoken),
        cursor.is_none(),
        next_cursor,
    )
}
