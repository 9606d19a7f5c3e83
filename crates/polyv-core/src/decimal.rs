//! Decimal formatting of integers without `core::fmt`, whose machinery
//! (`to_string`, `write!`) costs several times the digits themselves on the
//! signing path.

/// Enough room for `u64::MAX` (20 digits).
pub(crate) type DecimalBuf = [u8; 20];

/// "00" to "99": two digits per division halves the divisions.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes `n` in decimal at the end of `buf` and returns the digits.
pub(crate) fn format_u64(mut n: u64, buf: &mut DecimalBuf) -> &str {
    let mut start = buf.len();
    while n >= 100 {
        // Below 100, so the cast is exact.
        let pair = 2 * (n % 100) as usize;
        n /= 100;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    // `n` is now below 100, so the casts are exact.
    if n >= 10 {
        let pair = 2 * n as usize;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buf[start] = b'0' + n as u8;
    }
    // Only ASCII digits were written, so this never fails.
    std::str::from_utf8(&buf[start..]).unwrap_or_default()
}

/// `n` in decimal as an owned `String`, for parameter values.
pub(crate) fn u64_string(n: u64) -> String {
    format_u64(n, &mut [0; 20]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_to_string() {
        for n in [
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            1_539_918_907_896,
            1_700_000_000_000,
            u64::MAX - 1,
            u64::MAX,
        ]
        .into_iter()
        .chain((0..100_000).step_by(7))
        {
            assert_eq!(format_u64(n, &mut [0; 20]), n.to_string());
            assert_eq!(u64_string(n), n.to_string());
        }
    }
}
