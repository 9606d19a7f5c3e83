//! Compiles, and where they are not `no_run` runs, every Rust snippet of the
//! workspace README and of each published crate's README as doctests, with
//! only the dependencies those READMEs tell a new user to add. Not published.

/// The workspace README.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;

/// polyv-core's README.
#[cfg(doctest)]
#[doc = include_str!("../../polyv-core/README.md")]
pub struct CoreReadme;

/// polyv-blocking's README.
#[cfg(doctest)]
#[doc = include_str!("../../polyv-blocking/README.md")]
pub struct BlockingReadme;

/// polyv-async's README.
#[cfg(doctest)]
#[doc = include_str!("../../polyv-async/README.md")]
pub struct AsyncReadme;

/// polyv-mock's README.
#[cfg(doctest)]
#[doc = include_str!("../../polyv-mock/README.md")]
pub struct MockReadme;

/// polyv-redis's README.
#[cfg(doctest)]
#[doc = include_str!("../../polyv-redis/README.md")]
pub struct RedisReadme;

/// polyv-cli's README (shell only today; kept so a Rust snippet added later
/// is compiled too).
#[cfg(doctest)]
#[doc = include_str!("../../polyv-cli/README.md")]
pub struct CliReadme;
