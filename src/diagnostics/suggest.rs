//! "Did you mean" suggestions: the one fuzzy matcher, with a cut-off so that
//! a suggestion is offered only when it is plausibly what was meant.

/// The candidate closest to `name`, if it is close enough.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name && identifier_problem(c).is_none())
        .map(|c| (strsim::normalized_damerau_levenshtein(&lower, c), c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Where an identifier breaks the rules, with a corrected spelling if there is one.
pub fn identifier_problem(name: &str) -> Option<(String, Option<String>)> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_well = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if valid_chars && starts_well && !name.ends_with('_') && name.len() <= 64 {
        return None;
    }
    let fixed = snake_case(name);
    // A mechanical cut of an over-long name is no suggestion.
    let fixed = (fixed != name && name.len() <= 64 && is_valid(&fixed)).then_some(fixed);
    let why = if name.len() > 64 {
        "names are at most 64 bytes long".to_owned()
    } else if name.bytes().any(|b| b.is_ascii_uppercase()) {
        "names are lowercase".to_owned()
    } else if name.contains('-') || name.contains(char::is_whitespace) {
        "names join words with `_`, not `-`".to_owned()
    } else if !starts_well {
        "names start with a letter `a`–`z`".to_owned()
    } else if name.ends_with('_') {
        "names do not end with `_`".to_owned()
    } else {
        "names use only `a`–`z`, `0`–`9` and `_`".to_owned()
    };
    Some((why, fixed))
}

fn is_valid(name: &str) -> bool {
    identifier_problem(name).is_none()
}

/// `canView` → `can_view`, `can-view` → `can_view`, `view_` → `view`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c == '-' || c.is_whitespace() {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    let trimmed = out.trim_end_matches('_');
    trimmed
        .chars()
        .take(64)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("memebr", ["member", "owner"]), Some("member"));
        assert_eq!(closest("xyz", ["member", "owner"]), None);
        assert_eq!(closest("Viewer", ["viewer"]), Some("viewer"));
    }

    #[test]
    fn corrects_identifiers() {
        assert_eq!(identifier_problem("viewer"), None);
        assert_eq!(
            identifier_problem("canView").and_then(|p| p.1),
            Some("can_view".into())
        );
        assert_eq!(
            identifier_problem("can-view").and_then(|p| p.1),
            Some("can_view".into())
        );
        assert_eq!(
            identifier_problem("Viewer").and_then(|p| p.1),
            Some("viewer".into())
        );
        assert_eq!(
            identifier_problem("view_").and_then(|p| p.1),
            Some("view".into())
        );
        assert!(identifier_problem("2fa").is_some_and(|p| p.1.is_none()));
    }
}
