//! The little of CSV (RFC 4180) that OpenFGA's tuple files need: fields
//! separated by `,`, quoted with `"` (a quote inside doubled), records
//! ended by LF or CRLF, and quoted fields spanning lines. Each record keeps
//! the byte offset where it starts, so problems point at their line.

/// One record: where it starts in the text, and its fields with theirs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub at: usize,
    pub fields: Vec<(usize, String)>,
}

/// An unterminated quoted field, at the byte offset of its opening quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unterminated(pub usize);

/// Splits `text` into records; blank lines are skipped.
pub fn records(text: &str) -> Result<Vec<Record>, Unterminated> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut fields: Vec<(usize, String)> = Vec::new();
    let mut record_at = 0;
    let mut field = String::new();
    let mut field_at = 0;
    let mut at_field_start = true;
    let mut blank_line = true;
    let end_record = |fields: &mut Vec<(usize, String)>, out: &mut Vec<Record>, at: usize| {
        let taken = std::mem::take(fields);
        if !(taken.len() == 1 && taken.iter().all(|(_, f)| f.is_empty())) {
            out.push(Record { at, fields: taken });
        }
    };
    while let Some((i, c)) = chars.next() {
        if at_field_start {
            field_at = i;
            if blank_line {
                record_at = i;
            }
            at_field_start = false;
            if c == '"' {
                blank_line = false;
                loop {
                    match chars.next() {
                        None => return Err(Unterminated(i)),
                        Some((_, '"')) if chars.peek().is_some_and(|&(_, n)| n == '"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some((_, '"')) => break,
                        Some((_, other)) => field.push(other),
                    }
                }
                continue;
            }
        }
        match c {
            ',' => {
                blank_line = false;
                fields.push((field_at, std::mem::take(&mut field)));
                at_field_start = true;
            }
            '\n' => {
                fields.push((field_at, std::mem::take(&mut field)));
                end_record(&mut fields, &mut out, record_at);
                at_field_start = true;
                blank_line = true;
            }
            '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => {}
            other => {
                blank_line = false;
                field.push(other);
            }
        }
    }
    if !at_field_start || !fields.is_empty() {
        fields.push((field_at, field));
        end_record(&mut fields, &mut out, record_at);
    }
    Ok(out)
}

/// `value` as one CSV field, quoted when it must be.
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn values(text: &str) -> Vec<Vec<String>> {
        records(text)
            .unwrap()
            .into_iter()
            .map(|r| r.fields.into_iter().map(|(_, f)| f).collect())
            .collect()
    }

    #[test]
    fn quotes_commas_and_line_breaks() {
        assert_eq!(
            values("a,b\r\n\"x,\"\"y\"\"\",\"two\nlines\"\n\n,\n"),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["x,\"y\"".to_owned(), "two\nlines".to_owned()],
                vec![String::new(), String::new()],
            ]
        );
        assert_eq!(records("a,\"b").unwrap_err(), Unterminated(2));
    }

    #[test]
    fn records_know_where_they_start() {
        let text = "h1,h2\nv1,v2";
        let rows = records(text).unwrap();
        assert_eq!(rows[1].at, 6);
        assert_eq!(rows[1].fields[1].0, 9);
    }

    #[test]
    fn fields_round_trip() {
        for value in [
            "plain",
            "a,b",
            "say \"hi\"",
            " padded ",
            "two\nlines",
            "ünï",
        ] {
            let line = format!("{},x\n", field(value));
            assert_eq!(values(&line), vec![vec![value.to_owned(), "x".to_owned()]]);
        }
    }
}
