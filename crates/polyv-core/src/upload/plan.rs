//! Splitting a file into the parts of an OSS multipart upload.

use serde::{Deserialize, Serialize};

use crate::Error;

use super::MAX_PARTS;

/// The smallest part OSS accepts, except the last: 100 KB.
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// The largest part OSS accepts: 5 GB.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The largest file one multipart upload can carry: 10,000 parts of 5 GB.
pub const MAX_FILE_SIZE: u64 = MAX_PARTS as u64 * MAX_PART_SIZE;
/// The default part size: 8 MiB, grown (in whole MiB) for files over
/// 78 GiB so that they fit in 10,000 parts. Memory is bounded by parts in
/// flight × part size: 32 MiB at the default concurrency.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// The default number of parts in flight (Polyv's Java SDK runs 5 threads).
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The most parts in flight the state machine allows.
pub const MAX_CONCURRENCY: usize = 64;

const MIB: u64 = 1024 * 1024;

/// One part: its number (from 1), where it starts in the file and how long
/// it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Part {
    /// The part number, 1 to 10,000.
    pub number: u32,
    /// The offset of its first byte in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// How a file of a given size is cut into parts: all of the part size but
/// the last, which holds the rest.
///
/// ```
/// use polyv_core::upload::{PartPlan, DEFAULT_PART_SIZE};
///
/// let plan = PartPlan::new(20 * 1024 * 1024)?; // 20 MiB
/// assert_eq!(plan.part_size(), DEFAULT_PART_SIZE);
/// assert_eq!(plan.part_count(), 3);
/// let last = plan.part(3).unwrap();
/// assert_eq!((last.offset, last.len), (16 * 1024 * 1024, 4 * 1024 * 1024));
/// assert_eq!(plan.parts().map(|p| p.len).sum::<u64>(), plan.file_size());
///
/// // A part size that would need more than 10,000 parts is refused, saying what would do.
/// let err = PartPlan::with_part_size(10 * 1024 * 1024 * 1024, 100 * 1024).unwrap_err();
/// assert!(err.to_string().contains("at least"));
/// # Ok::<(), polyv_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartPlan {
    file_size: u64,
    part_size: u64,
    part_count: u32,
}

impl PartPlan {
    /// The plan with the default part size ([`DEFAULT_PART_SIZE`], grown
    /// for files too large for 10,000 parts of it). Refused: an empty file
    /// (Polyv refuses size 0) and one over [`MAX_FILE_SIZE`].
    pub fn new(file_size: u64) -> Result<Self, Error> {
        check_file_size(file_size)?;
        let needed = file_size.div_ceil(u64::from(MAX_PARTS));
        let part_size = DEFAULT_PART_SIZE
            .max(needed.div_ceil(MIB).saturating_mul(MIB))
            .min(MAX_PART_SIZE);
        Self::with_part_size(file_size, part_size)
    }

    /// The plan with this part size. Refused, with what to do instead: a
    /// part size under 100 KB (unless the whole file fits in one part) or
    /// over 5 GB, one that needs more than 10,000 parts, an empty file, a
    /// file over [`MAX_FILE_SIZE`].
    pub fn with_part_size(file_size: u64, part_size: u64) -> Result<Self, Error> {
        check_file_size(file_size)?;
        if part_size == 0 || (part_size < MIN_PART_SIZE && part_size < file_size) {
            return Err(Error::InvalidInput(format!(
                "the part size {part_size} bytes is under OSS's minimum of {MIN_PART_SIZE} bytes (100 KB): use a larger part size"
            )));
        }
        if part_size > MAX_PART_SIZE {
            return Err(Error::InvalidInput(format!(
                "the part size {part_size} bytes is over OSS's maximum of {MAX_PART_SIZE} bytes (5 GB): use a smaller part size"
            )));
        }
        let count = file_size.div_ceil(part_size);
        if count > u64::from(MAX_PARTS) {
            let needed = file_size.div_ceil(u64::from(MAX_PARTS));
            return Err(Error::InvalidInput(format!(
                "a {file_size}-byte file in parts of {part_size} bytes needs {count} parts, over OSS's 10,000: use a part size of at least {needed} bytes ({} MiB)",
                needed.div_ceil(MIB)
            )));
        }
        Ok(Self {
            file_size,
            part_size,
            // At most 10,000, checked above.
            part_count: u32::try_from(count).unwrap_or(MAX_PARTS),
        })
    }

    /// The file's size in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The size of every part but the last.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// How many parts there are (1 to 10,000).
    pub fn part_count(&self) -> u32 {
        self.part_count
    }

    /// Part `number` (from 1), or `None` outside the plan.
    pub fn part(&self, number: u32) -> Option<Part> {
        if number == 0 || number > self.part_count {
            return None;
        }
        Some(self.part_within(number))
    }

    /// Part `number`, known to be within the plan.
    fn part_within(&self, number: u32) -> Part {
        let offset = u64::from(number.saturating_sub(1)) * self.part_size;
        Part {
            number,
            offset,
            len: self.part_size.min(self.file_size.saturating_sub(offset)),
        }
    }

    /// Every part, in order.
    pub fn parts(&self) -> impl ExactSizeIterator<Item = Part> + '_ {
        (0..self.part_count).map(|n| self.part_within(n + 1))
    }
}

fn check_file_size(file_size: u64) -> Result<(), Error> {
    if file_size == 0 {
        return Err(Error::InvalidInput(
            "the file is empty: Polyv refuses a video of size 0 (init error 406)".into(),
        ));
    }
    if file_size > MAX_FILE_SIZE {
        return Err(Error::InvalidInput(format!(
            "the file is {file_size} bytes, over the {MAX_FILE_SIZE} bytes (10,000 parts of 5 GB) one OSS multipart upload can carry"
        )));
    }
    Ok(())
}

/// Checks a number of parts in flight: 1 to [`MAX_CONCURRENCY`].
///
/// ```
/// assert!(polyv_core::upload::check_concurrency(4).is_ok());
/// assert!(polyv_core::upload::check_concurrency(0).is_err());
/// ```
pub fn check_concurrency(concurrency: usize) -> Result<usize, Error> {
    if (1..=MAX_CONCURRENCY).contains(&concurrency) {
        Ok(concurrency)
    } else {
        Err(Error::InvalidInput(format!(
            "{concurrency} parts in flight: use 1 to {MAX_CONCURRENCY}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_cover_the_file_exactly() {
        for (size, part_size, count, last) in [
            (1, DEFAULT_PART_SIZE, 1, 1),
            (DEFAULT_PART_SIZE, DEFAULT_PART_SIZE, 1, DEFAULT_PART_SIZE),
            (DEFAULT_PART_SIZE + 1, DEFAULT_PART_SIZE, 2, 1),
            (50 * 1024, 10, 0, 0), // refused below
        ] {
            if count == 0 {
                assert!(PartPlan::with_part_size(size, part_size).is_err());
                continue;
            }
            let plan = PartPlan::with_part_size(size, part_size).unwrap();
            assert_eq!(plan.part_count(), count);
            assert_eq!(plan.parts().len(), count as usize);
            assert_eq!(plan.parts().last().unwrap().len, last);
            assert_eq!(plan.parts().map(|p| p.len).sum::<u64>(), size);
            let mut next = 0;
            for part in plan.parts() {
                assert_eq!(part.offset, next);
                next += part.len;
            }
            assert_eq!(plan.part(0), None);
            assert_eq!(plan.part(count + 1), None);
        }
    }

    #[test]
    fn a_small_file_may_be_one_small_part() {
        let plan = PartPlan::with_part_size(10, 50).unwrap();
        assert_eq!((plan.part_count(), plan.part(1).unwrap().len), (1, 10));
        assert!(PartPlan::with_part_size(200, 50).is_err());
        assert!(PartPlan::with_part_size(200, 0).is_err());
    }

    #[test]
    fn the_default_grows_for_huge_files_and_stays_within_limits() {
        for size in [
            1,
            100 * 1024 * 1024 * 1024,
            10_000 * DEFAULT_PART_SIZE,
            10_000 * DEFAULT_PART_SIZE + 1,
            MAX_FILE_SIZE - 1,
            MAX_FILE_SIZE,
        ] {
            let plan = PartPlan::new(size).unwrap();
            assert!(plan.part_count() <= MAX_PARTS, "{size}");
            assert!(plan.part_size() >= DEFAULT_PART_SIZE && plan.part_size() <= MAX_PART_SIZE);
            assert_eq!(plan.parts().map(|p| p.len).sum::<u64>(), size);
        }
        assert_eq!(
            PartPlan::new(10_000 * DEFAULT_PART_SIZE + 1)
                .unwrap()
                .part_size(),
            9 * MIB
        );
    }

    #[test]
    fn impossible_inputs_say_what_to_do() {
        let messages = [
            PartPlan::new(0).unwrap_err(),
            PartPlan::new(MAX_FILE_SIZE + 1).unwrap_err(),
            PartPlan::with_part_size(MAX_FILE_SIZE, MAX_PART_SIZE + 1).unwrap_err(),
            PartPlan::with_part_size(2 * MIN_PART_SIZE, MIN_PART_SIZE - 1).unwrap_err(),
            PartPlan::with_part_size(20_000 * MIN_PART_SIZE, MIN_PART_SIZE).unwrap_err(),
        ]
        .map(|e| e.to_string());
        assert!(messages[0].contains("empty"));
        assert!(messages[1].contains("10,000 parts of 5 GB"));
        assert!(messages[2].contains("use a smaller part size"));
        assert!(messages[3].contains("use a larger part size"));
        assert!(messages[4].contains(&format!("at least {} bytes", 2 * MIN_PART_SIZE)));
        assert!(check_concurrency(MAX_CONCURRENCY + 1).is_err());
    }
}
