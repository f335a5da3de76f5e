//! The statement text of the SQLite store: writes, and each read in two
//! forms, at a revision (live rows created by then, plus the history rows
//! visible then) and at the head of the read transaction's snapshot (the
//! live rows alone, plain key reads).

use std::sync::LazyLock;

use crate::store::SubjectKind;

/// An insert at revision ?7 as version ?8, with condition ?9, context ?10
/// and expiry ?11 (ignored when the tuple's key is live).
pub(super) const INSERT: &str = "INSERT OR IGNORE INTO live
        (ns, obj, rel, s_ns, s_obj, s_rel, created_rev, seq, cond, context, expires_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
/// Whether the live tuple of a key (?1 to ?6) has condition ?7, context ?8
/// and expiry ?9: an insert of it then changes nothing.
pub(super) const SAME_ATTRIBUTES: &str = "SELECT EXISTS (SELECT 1 FROM live
        WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5
          AND cond IS ?7 AND context IS ?8 AND expires_at IS ?9)";
/// A delete, first half: the live row moves to `history`, deleted at ?7.
pub(super) const ARCHIVE: &str = "INSERT INTO history
        (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, seq, cond, context,
         expires_at)
    SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, ?7, seq, cond, context, expires_at
    FROM live
    WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5";
/// A delete, second half.
pub(super) const REMOVE: &str = "DELETE FROM live
                      WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4
                        AND s_obj = ?5";

/// The rows the plain reads see: without a condition or an expiry.
pub(super) const PLAIN: &str = "cond IS NULL AND expires_at IS NULL";

/// The rows the attributed reads see.
pub(super) const ATTRIBUTED: &str = "(cond IS NOT NULL OR expires_at IS NOT NULL)";

/// Every plain read in two forms, `[filtered, unfiltered]`: the filtered
/// one leaves out the rows with a condition or an expiry ([`PLAIN`]); the
/// unfiltered one, used where the relation (or namespace) read has never
/// held such a row (`attributed_relations`), is the read as it was before
/// tuples had traits, and saves SQLite testing two columns of every row.
pub(super) type Forms<T> = [T; 2];

/// The form of `forms` for a read that must (`filtered`) or need not leave
/// out the rows with traits.
pub(super) fn form<T>(forms: &Forms<T>, filtered: bool) -> &T {
    let [with, without] = forms;
    if filtered {
        with
    } else {
        without
    }
}

/// `make` called for each form: `true` for the filtered one.
fn forms<T>(make: impl Fn(bool) -> T) -> Forms<T> {
    [make(true), make(false)]
}

/// The condition a plain read adds in its `filtered` form.
fn plain_filter(filtered: bool) -> String {
    if filtered {
        format!(" AND {PLAIN}")
    } else {
        String::new()
    }
}

/// A plain read at revision `?r`: the `columns` of the rows matching `key`
/// (and, `filtered`, [`PLAIN`]) that are visible then, live or deleted
/// later.
fn forward_sql(columns: &str, key: &str, filtered: bool) -> String {
    visible_sql(columns, &format!("{key}{}", plain_filter(filtered)))
}

/// The `columns` of the rows matching `condition` visible at `?r`.
fn visible_sql(columns: &str, condition: &str) -> String {
    format!(
        "SELECT {columns} FROM live WHERE {condition} AND created_rev <= ?r
         UNION ALL
         SELECT {columns} FROM history
         WHERE {condition} AND created_rev <= ?r AND deleted_rev > ?r"
    )
}

/// The same plain read at the head of the snapshot: the live rows.
fn head_sql(columns: &str, key: &str, filtered: bool) -> String {
    format!(
        "SELECT {columns} FROM live WHERE {key}{}",
        plain_filter(filtered)
    )
}

const KIND_FILTERS: [&str; 3] = ["", " AND s_rel = 0 AND s_obj <> 0", " AND s_rel > 0"];

/// The statement of `statements` (per [`KIND_FILTERS`]) for `kind`.
pub(super) fn for_kind(statements: &[String; 3], kind: SubjectKind) -> &str {
    let [all, objects, sets] = statements;
    match kind {
        SubjectKind::All => all,
        SubjectKind::Objects => objects,
        SubjectKind::Sets => sets,
    }
}

/// `subjects`, per [`SubjectKind`]: (ns, obj, rel, at).
pub(super) static SUBJECTS: LazyLock<Forms<[String; 3]>> = LazyLock::new(|| {
    forms(|filtered| {
        KIND_FILTERS.map(|filter| {
            format!(
                "{} ORDER BY 3, 1, 2",
                forward_sql(
                    "s_ns, s_obj, s_rel",
                    &format!("ns = ?1 AND obj = ?2 AND rel = ?3{filter}"),
                    filtered
                )
                .replace("?r", "?4")
            )
        })
    })
});

/// `subjects` at the snapshot's head, in key order: (ns, obj, rel).
pub(super) static HEAD_SUBJECTS: LazyLock<Forms<[String; 3]>> = LazyLock::new(|| {
    forms(|filtered| {
        KIND_FILTERS.map(|filter| {
            format!(
                "{} ORDER BY s_rel, s_ns, s_obj",
                head_sql(
                    "s_ns, s_obj, s_rel",
                    &format!("ns = ?1 AND obj = ?2 AND rel = ?3{filter}"),
                    filtered
                )
            )
        })
    })
});

const TUPLE_KEY: &str =
    "ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5";

/// `contains`: (ns, obj, rel, s_ns, s_obj, s_rel, at).
pub(super) static CONTAINS: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        format!(
            "SELECT EXISTS ({})",
            forward_sql("1", TUPLE_KEY, filtered).replace("?r", "?7")
        )
    })
});

/// `contains` at the snapshot's head: (ns, obj, rel, s_ns, s_obj, s_rel).
pub(super) static HEAD_CONTAINS: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| format!("SELECT EXISTS ({})", head_sql("1", TUPLE_KEY, filtered)))
});

/// The fourth column of a probe's rows: whether the row is plain. The
/// filtered form leaves rows with traits out of the subject sets but not
/// out of the exact subject and the wildcard, so that the probe can tell
/// that one names them ([`crate::store::ProbeHit::attributed`]).
fn plain_column(filtered: bool) -> String {
    if filtered {
        format!("({PLAIN})")
    } else {
        "1".to_owned()
    }
}

/// The three questions of a probe of `live`, each one index seek: the exact
/// subject (?4, ?5, ?6), the wildcard of namespace ?7, the subject sets (only
/// when ?8 is 0: every `s_rel` is above it). An absent subject or wildcard
/// is bound as -1, which no row has. Rows say which question they answer by
/// their subject, and whether they are plain by their fourth column.
fn probe_arms(visible: &str, filtered: bool) -> String {
    let key = "ns = ?1 AND obj = ?2 AND rel = ?3";
    let column = plain_column(filtered);
    [
        "s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5".to_owned(),
        "s_rel = 0 AND s_ns = ?7 AND s_obj = 0".to_owned(),
        format!("s_rel > ?8{}", plain_filter(filtered)),
    ]
    .map(|subject| {
        format!("SELECT s_ns, s_obj, s_rel, {column} FROM live WHERE {key} AND {subject}{visible}")
    })
    .join("\n UNION ALL\n")
}

/// `probe` at revision ?9: the three arms over live rows created by then,
/// and every row of the relation in `history` visible then.
pub(super) static PROBE: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        format!(
            "{}\n UNION ALL\n SELECT s_ns, s_obj, s_rel, {} FROM history
         WHERE ns = ?1 AND obj = ?2 AND rel = ?3
           AND created_rev <= ?9 AND deleted_rev > ?9",
            probe_arms(" AND created_rev <= ?9", filtered),
            plain_column(filtered)
        )
    })
});

/// `probe` at the snapshot's head, with only the arms a probe needs (an arm
/// is a seek even when it finds nothing): `HEAD_PROBES[mask]` for bit 0 the
/// exact subject (?4, ?5, ?6), bit 1 the wildcard (?7; ?4 to ?6 are then
/// bound too), bit 2 the subject sets. Parameters (ns, obj, rel, …).
pub(super) static HEAD_PROBES: LazyLock<Forms<[String; 8]>> = LazyLock::new(|| {
    let key = "ns = ?1 AND obj = ?2 AND rel = ?3";
    forms(|filtered| {
        let column = plain_column(filtered);
        let sets = format!("s_rel > 0{}", plain_filter(filtered));
        let arms = [
            "s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5",
            "s_rel = 0 AND s_ns = ?7 AND s_obj = 0",
            &sets,
        ];
        std::array::from_fn(|mask| {
            arms.iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, arm)| {
                    format!("SELECT s_ns, s_obj, s_rel, {column} FROM live WHERE {key} AND {arm}")
                })
                .collect::<Vec<_>>()
                .join("\n UNION ALL\n")
        })
    })
});

/// The relation column of whole-object reads: in the filtered form, a row
/// with traits comes with its relation negated (no relation matches it),
/// so that a probe answered from the object can still tell that one names
/// its subject.
/// The filtered form also gives every row's condition, context, expiry
/// and `seq`, so that the object's tuples with traits are read with it.
fn object_rel_column(filtered: bool) -> String {
    if filtered {
        format!("CASE WHEN {PLAIN} THEN rel ELSE -rel END")
    } else {
        "rel".to_owned()
    }
}

/// The columns of a whole-object read after `rel`.
fn object_columns(filtered: bool) -> String {
    let attributes = if filtered {
        ", cond, context, expires_at, seq"
    } else {
        ""
    };
    format!(
        "{}, s_ns, s_obj, s_rel{attributes}",
        object_rel_column(filtered)
    )
}

/// An object with at most this many tuples is read whole, in one
/// statement, the first time a scope asks about it; larger ones are read a
/// relation at a time.
pub(super) const OBJECT_READ_LIMIT: i64 = 64;

/// Every tuple of one object, one more than [`OBJECT_READ_LIMIT`] at most:
/// (ns, obj, at). The limit is a literal: SQLite prepares a statement again
/// whenever a parameter that its plan depends on (a `LIMIT`) is bound.
pub(super) static OBJECT_ROWS: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        let columns = object_columns(filtered);
        format!(
            "{} LIMIT {}",
            forward_sql(&columns, "ns = ?1 AND obj = ?2", false).replace("?r", "?3"),
            OBJECT_READ_LIMIT + 1
        )
    })
});

/// The same at the snapshot's head: (ns, obj).
pub(super) static HEAD_OBJECT_ROWS: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        let columns = object_columns(filtered);
        format!(
            "{} LIMIT {}",
            head_sql(&columns, "ns = ?1 AND obj = ?2", false),
            OBJECT_READ_LIMIT + 1
        )
    })
});

/// Objects read together by `prefetch`, one statement each chunk.
pub(super) const PREFETCH_CHUNK: usize = 256;

/// The key of a `prefetch` chunk: namespace ?1, objects ?2 to ?257.
fn prefetch_key() -> String {
    let slots: Vec<String> = (2..PREFETCH_CHUNK + 2).map(|i| format!("?{i}")).collect();
    format!("ns = ?1 AND obj IN ({})", slots.join(", "))
}

/// `prefetch` at revision ?258: (ns, objects…, at).
pub(super) static PREFETCH: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        let columns = format!("obj, {}", object_columns(filtered));
        forward_sql(&columns, &prefetch_key(), false)
            .replace("?r", &format!("?{}", PREFETCH_CHUNK + 2))
    })
});

/// `prefetch` at the snapshot's head: (ns, objects…).
pub(super) static HEAD_PREFETCH: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        let columns = format!("obj, {}", object_columns(filtered));
        head_sql(&columns, &prefetch_key(), false)
    })
});

/// `objects_with_subject`: (s_ns, s_obj, s_rel, ns, rel, at).
pub(super) static OBJECTS_WITH_SUBJECT: LazyLock<Forms<String>> = LazyLock::new(|| {
    forms(|filtered| {
        forward_sql(
            "obj",
            "s_ns = ?1 AND s_obj = ?2 AND s_rel = ?3 AND ns = ?4 AND rel = ?5",
            filtered,
        )
        .replace("?r", "?6")
    })
});

/// The tuples with a condition or an expiry of (ns, obj, rel) at revision
/// ?4, in the order of writing, with their subjects and attributes.
pub(super) static ATTRIBUTED_FORWARD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} ORDER BY 7",
        visible_sql(
            "s_ns, s_obj, s_rel, cond, context, expires_at, seq",
            &format!("ns = ?1 AND obj = ?2 AND rel = ?3 AND {ATTRIBUTED}")
        )
        .replace("?r", "?4")
    )
});

/// [`ATTRIBUTED_FORWARD`] at the head of the snapshot: the live rows only
/// (no history to merge).
pub(super) static HEAD_ATTRIBUTED_FORWARD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT s_ns, s_obj, s_rel, cond, context, expires_at, seq FROM live
         WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND {ATTRIBUTED} ORDER BY seq"
    )
});

/// The same among the tuples of (ns, rel) whose subject is (?1, ?2, ?3),
/// ns ?4 and rel ?5, at revision ?6, with their objects.
pub(super) static ATTRIBUTED_REVERSE: LazyLock<String> = LazyLock::new(|| {
    visible_sql(
        "obj, cond, context, expires_at",
        &format!(
            "s_ns = ?1 AND s_obj = ?2 AND s_rel = ?3 AND ns = ?4 AND rel = ?5 AND {ATTRIBUTED}"
        ),
    )
    .replace("?r", "?6")
});

/// [`ATTRIBUTED_REVERSE`] at the head of the snapshot: the live rows only.
pub(super) static HEAD_ATTRIBUTED_REVERSE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT obj, cond, context, expires_at FROM live
         WHERE s_ns = ?1 AND s_obj = ?2 AND s_rel = ?3 AND ns = ?4 AND rel = ?5 AND {ATTRIBUTED}"
    )
});

/// Notes that relation (?1, ?2) holds a version with a condition or an
/// expiry (in the transaction that writes it).
pub(super) const MARK_ATTRIBUTED: &str =
    "INSERT OR IGNORE INTO attributed_relations (ns, rel) VALUES (?1, ?2)";

/// The relations that have held a version with a condition or an expiry.
pub(super) const ATTRIBUTED_RELATIONS: &str = "SELECT ns, rel FROM attributed_relations";

/// Whether a live tuple's expiry has passed at ?1 (through `live_expiry`).
pub(super) const ANY_EXPIRED: &str = "SELECT EXISTS (SELECT 1 FROM live WHERE expires_at <= ?1)";

/// The keys of the live tuples whose expiry has passed at ?1, the earliest
/// first, at most ?2.
pub(super) const EXPIRED: &str = "SELECT ns, obj, rel, s_ns, s_obj, s_rel FROM live
    WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2";

/// `live`'s reverse index (as migration 0006 creates it), built again after
/// an import that dropped it.
pub(super) const LIVE_REVERSE: &str = "CREATE INDEX IF NOT EXISTS live_reverse
    ON live (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, cond, expires_at)";

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of `sql`, one detail line per step.
    fn plan(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
        let mut statement = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap_or_else(|e| unreachable!("{e}: {sql}"));
        let count = statement.parameter_count();
        let params: Vec<i64> = vec![1; count];
        statement
            .query_map(rusqlite::params_from_iter(params), |row| row.get(3))
            .and_then(|rows| rows.collect())
            .unwrap_or_else(|e| unreachable!("{e}: {sql}"))
    }

    const EXPIRED: &str = "SELECT ns FROM live WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2";

    /// Every read seeks its rows through a key or an index, never scans a
    /// table, and the plain reverse read stays within its covering indexes,
    /// although the plain reads now also ask for no condition and no expiry.
    #[test]
    fn every_read_seeks_an_index() {
        let mut conn =
            rusqlite::Connection::open_in_memory().unwrap_or_else(|e| unreachable!("{e}"));
        super::super::migrations::migrate_connection(&mut conn)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let mut reads: Vec<(&str, String)> = Vec::new();
        for filtered in [true, false] {
            reads.extend([
                ("contains", form(&CONTAINS, filtered).clone()),
                ("head contains", form(&HEAD_CONTAINS, filtered).clone()),
                ("probe", form(&PROBE, filtered).clone()),
                ("object rows", form(&OBJECT_ROWS, filtered).clone()),
                (
                    "head object rows",
                    form(&HEAD_OBJECT_ROWS, filtered).clone(),
                ),
                ("prefetch", form(&PREFETCH, filtered).clone()),
                ("head prefetch", form(&HEAD_PREFETCH, filtered).clone()),
                (
                    "objects with subject",
                    form(&OBJECTS_WITH_SUBJECT, filtered).clone(),
                ),
            ]);
            for statements in [&*SUBJECTS, &*HEAD_SUBJECTS] {
                let statements = form(statements, filtered);
                reads.extend(statements.iter().map(|s| ("subjects", s.clone())));
            }
            reads.extend(
                form(&HEAD_PROBES, filtered)
                    .iter()
                    .skip(1)
                    .map(|s| ("head probe", s.clone())),
            );
        }
        reads.extend([
            ("attributed", ATTRIBUTED_FORWARD.clone()),
            ("attributed reverse", ATTRIBUTED_REVERSE.clone()),
            ("attributed at the head", HEAD_ATTRIBUTED_FORWARD.clone()),
            (
                "attributed reverse at the head",
                HEAD_ATTRIBUTED_REVERSE.clone(),
            ),
            ("same attributes", SAME_ATTRIBUTES.to_owned()),
            ("any expired", ANY_EXPIRED.to_owned()),
            ("expired", EXPIRED.to_owned()),
        ]);
        for (name, sql) in reads {
            let steps = plan(&conn, &sql);
            for step in &steps {
                assert!(
                    !(step.starts_with("SCAN live") || step.starts_with("SCAN history")),
                    "{name} scans a table: {steps:?}"
                );
            }
            assert!(
                steps.iter().any(|s| s.starts_with("SEARCH")),
                "{name}: {steps:?}"
            );
        }
        for filtered in [true, false] {
            let reverse = plan(&conn, form(&OBJECTS_WITH_SUBJECT, filtered).as_str());
            assert!(
                reverse
                    .iter()
                    .any(|s| s.contains("COVERING INDEX live_reverse"))
                    && reverse
                        .iter()
                        .any(|s| s.contains("COVERING INDEX history_reverse")),
                "{reverse:?}"
            );
        }
        let expired = plan(&conn, EXPIRED);
        assert!(
            expired.iter().any(|s| s.contains("live_expiry")),
            "{expired:?}"
        );
    }
}
