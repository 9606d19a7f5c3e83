//! Checks on the caller's input, shared by the typed requests: what is
//! refused here is refused before anything is sent, with a message that says
//! what to do.

use crate::Error;

/// Checks one video id: not blank, no comma (vids travel comma-joined), no
/// whitespace or control character.
pub(crate) fn vid(vid: &str) -> Result<(), Error> {
    if vid.trim().is_empty() {
        return Err(Error::InvalidInput(
            "a vid is empty: pass the video's id, e.g. 382839019131be68715e9455f8d0971a_3".into(),
        ));
    }
    if vid.contains(',') {
        return Err(Error::InvalidInput(format!(
            "the vid {vid:?} contains a comma: pass each vid as its own item, not a comma-joined list"
        )));
    }
    if let Some(bad) = vid.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::InvalidInput(format!(
            "the vid {vid:?} contains {bad:?}: remove the spaces around or inside it"
        )));
    }
    Ok(())
}

/// Checks a list of vids and drops repeats (the first stays, order is
/// kept): at least one, each a valid vid.
pub(crate) fn vids<I, S>(vids: I) -> Result<Vec<String>, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in vids {
        let v = v.into();
        vid(&v)?;
        if seen.insert(v.clone()) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidInput(
            "no vid given: pass at least one video id".into(),
        ));
    }
    Ok(out)
}

/// The longest category name Polyv accepts, in characters.
pub(crate) const MAX_CATEGORY_NAME_CHARS: usize = 40;

/// Checks a category name: not blank, at most 40 characters, no control
/// character.
pub(crate) fn category_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(Error::InvalidInput(
            "the category name is empty: give a name of 1 to 40 characters".into(),
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_CATEGORY_NAME_CHARS {
        return Err(Error::InvalidInput(format!(
            "the category name has {chars} characters: shorten it to at most {MAX_CATEGORY_NAME_CHARS}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "the category name contains a control character (a newline, a tab...): remove it"
                .into(),
        ));
    }
    Ok(())
}

/// Checks a category id: ids start at 1 (the root category).
pub(crate) fn cataid(cataid: u64) -> Result<(), Error> {
    if cataid == 0 {
        return Err(Error::InvalidInput(
            "category id 0 does not exist: ids start at 1 (the root category)".into(),
        ));
    }
    Ok(())
}

/// Checks an optional free text that is sent only when set: if set, not
/// blank (a blank value would be silently dropped from the request).
pub(crate) fn non_blank(what: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidInput(format!(
            "the {what} is blank: blank values are not sent, so leave the option unset instead"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vids_are_checked_and_deduplicated() {
        assert!(vid("382839019131be68715e9455f8d0971a_3").is_ok());
        for bad in ["", "  ", "a,b", "a b", "a\n", "\u{0}"] {
            let err = vid(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid input: "), "{err}");
        }
        assert_eq!(vids(["a", "b", "a"]).unwrap(), ["a", "b"]);
        assert!(vids(Vec::<String>::new()).is_err());
        assert!(vids(["a", "b,c"]).is_err());
    }

    #[test]
    fn category_names_and_ids() {
        assert!(category_name("polyv").is_ok());
        assert!(category_name(&"分".repeat(40)).is_ok());
        assert!(category_name(&"分".repeat(41)).is_err());
        assert!(category_name(" ").is_err());
        assert!(category_name("a\tb").is_err());
        assert!(cataid(0).is_err());
        assert!(cataid(1).is_ok());
        assert!(non_blank("title", " ").is_err());
        assert!(non_blank("title", "t").is_ok());
    }
}
