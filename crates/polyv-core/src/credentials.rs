//! Account credentials: a validated user id and a secret key that never prints.

use std::fmt;

use crate::Error;

/// The environment variable that holds the user id.
pub const ENV_USER_ID: &str = "POLYV_USER_ID";
/// The environment variable that holds the secret key.
pub const ENV_SECRET_KEY: &str = "POLYV_SECRET_KEY";

/// A Polyv account id, validated so that it can only ever be one URL path
/// segment.
///
/// ```
/// use polyv_core::UserId;
///
/// assert!(UserId::new("b0f7041324").is_ok());
/// assert!(UserId::new("../admin").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// Validates a user id: non-empty, not `.` or `..`, and no `/`, `?`, `#`,
    /// `%`, whitespace or control characters (any of which would change the
    /// request's path).
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        if id.is_empty() {
            return Err(Error::InvalidInput("the user id is empty".into()));
        }
        if id == "." || id == ".." {
            return Err(Error::InvalidInput(format!(
                "the user id {id:?} is a relative path segment, which would change the request's path"
            )));
        }
        if let Some(bad) = id
            .chars()
            .find(|c| matches!(c, '/' | '?' | '#' | '%') || c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidInput(format!(
                "the user id contains {bad:?}, which cannot be part of a URL path segment"
            )));
        }
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account's secret key. Its `Debug` prints a fixed redaction and it has
/// no `Display`, so it cannot leak through logs or error messages by accident.
///
/// ```
/// use polyv_core::SecretKey;
///
/// let key = SecretKey::new("tIQp4ATe9Z");
/// assert_eq!(format!("{key:?}"), "SecretKey(\"<redacted>\")");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret key.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The key itself, for signing. Keep what you do with it out of logs.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(\"<redacted>\")")
    }
}

/// A user id and its secret key: everything needed to sign requests.
///
/// ```
/// use polyv_core::Credentials;
///
/// let creds = Credentials::new("b0f7041324", "tIQp4ATe9Z")?;
/// assert_eq!(creds.user_id().as_str(), "b0f7041324");
/// assert!(!format!("{creds:?}").contains("tIQp4ATe9Z"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Credentials {
    user_id: UserId,
    secret_key: SecretKey,
}

impl Credentials {
    /// Validates the user id and pairs it with the secret key.
    pub fn new(user_id: impl Into<String>, secret_key: impl Into<String>) -> Result<Self, Error> {
        let secret_key = secret_key.into();
        if secret_key.is_empty() {
            return Err(Error::InvalidInput("the secret key is empty".into()));
        }
        Ok(Self {
            user_id: UserId::new(user_id)?,
            secret_key: SecretKey::new(secret_key),
        })
    }

    /// Reads `POLYV_USER_ID` and `POLYV_SECRET_KEY` from the process
    /// environment. Unset and empty variables are reported together, by name,
    /// as [`Error::Env`]; a value that is not UTF-8 is [`Error::InvalidInput`].
    pub fn from_env() -> Result<Self, Error> {
        for name in [ENV_USER_ID, ENV_SECRET_KEY] {
            env_var(name)?; // not UTF-8: said as such, not as "unset"
        }
        Self::from_lookup(|name| env_var(name).ok().flatten())
    }

    /// Like [`Credentials::from_env`], with the variables looked up by the
    /// given function (a test's map, a config file...).
    ///
    /// ```
    /// use polyv_core::{Credentials, Error};
    ///
    /// let err = Credentials::from_lookup(|_| None).unwrap_err();
    /// assert!(matches!(err, Error::Env { ref unset, .. } if unset == &["POLYV_USER_ID", "POLYV_SECRET_KEY"]));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "environment variables POLYV_USER_ID and POLYV_SECRET_KEY are not set; export them (see the README)"
    /// );
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let user_id = lookup(ENV_USER_ID);
        let secret_key = lookup(ENV_SECRET_KEY);
        let mut unset = Vec::new();
        let mut empty = Vec::new();
        for (name, value) in [(ENV_USER_ID, &user_id), (ENV_SECRET_KEY, &secret_key)] {
            match value {
                None => unset.push(name),
                Some(v) if v.is_empty() => empty.push(name),
                Some(_) => {}
            }
        }
        match (user_id, secret_key) {
            (Some(user_id), Some(secret_key)) if unset.is_empty() && empty.is_empty() => {
                Self::new(user_id, secret_key)
            }
            _ => Err(Error::Env { unset, empty }),
        }
    }

    /// The account id.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }
}

/// One variable of the process environment: `Ok(None)` when unset, an error
/// when it is not UTF-8.
pub(crate) fn env_var(name: &str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::InvalidInput(format!(
            "environment variable {name} is not valid UTF-8"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_a_fixed_redaction() {
        let creds = Credentials::new("user1", "s3cr3t-value").unwrap();
        assert_eq!(
            format!("{:?}", creds.secret_key()),
            "SecretKey(\"<redacted>\")"
        );
        assert_eq!(
            format!("{creds:?}"),
            "Credentials { user_id: \"user1\", secret_key: SecretKey(\"<redacted>\") }"
        );
        assert_eq!(format!("{creds:#?}").matches("s3cr3t").count(), 0);
    }

    #[test]
    fn user_id_rejects_path_changers() {
        for bad in [
            "", ".", "..", "a/b", "a?b", "a#b", "a%2F", "a b", "a\tb", "a\u{7f}", "a\nb",
        ] {
            assert!(
                matches!(UserId::new(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
        assert!(UserId::new("b0f7041324").is_ok());
        assert!(UserId::new("用户1").is_ok());
        assert!(UserId::new("...").is_ok());
        assert!(UserId::new(".a").is_ok());
    }

    #[test]
    fn lookup_names_every_missing_variable() {
        let only_user = |n: &str| (n == ENV_USER_ID).then(|| "u1".to_owned());
        let err = Credentials::from_lookup(only_user).unwrap_err();
        assert!(
            matches!(&err, Error::Env { unset, empty } if unset == &[ENV_SECRET_KEY] && empty.is_empty())
        );
        assert_eq!(
            err.to_string(),
            "environment variable POLYV_SECRET_KEY is not set; export it (see the README)"
        );
        let empty = |_: &str| Some(String::new());
        let err = Credentials::from_lookup(empty).unwrap_err();
        assert!(
            matches!(&err, Error::Env { unset, empty } if unset.is_empty() && empty == &[ENV_USER_ID, ENV_SECRET_KEY])
        );
        assert_eq!(
            err.to_string(),
            "environment variables POLYV_USER_ID and POLYV_SECRET_KEY are set but empty; export them (see the README)"
        );
        let mixed = |n: &str| (n == ENV_USER_ID).then(String::new);
        assert_eq!(
            Credentials::from_lookup(mixed).unwrap_err().to_string(),
            "environment variable POLYV_SECRET_KEY is not set, and POLYV_USER_ID is set but empty; export them (see the README)"
        );
        let both = |n: &str| Some(if n == ENV_USER_ID { "u1" } else { "k" }.to_owned());
        assert_eq!(
            Credentials::from_lookup(both).unwrap().user_id().as_str(),
            "u1"
        );
    }
}
