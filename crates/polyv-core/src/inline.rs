//! A list that lives on the stack while it is short: signing and listing a
//! request's parameters allocate nothing for any endpoint this SDK knows.

/// How many items an [`InlineList`] holds before it moves to the heap:
/// get-by-uploader sends at most 8 parameters, `ptime` included. (Each
/// unused slot is still initialised: 16 cost 3% more to sign.)
pub(crate) const INLINE_ITEMS: usize = 8;

/// Up to [`INLINE_ITEMS`] items on the stack, then all of them on the heap.
#[derive(Clone)]
pub(crate) struct InlineList<T: Copy> {
    inline: [T; INLINE_ITEMS],
    len: usize,
    /// Holds every item once there are more than `INLINE_ITEMS`, else empty.
    spilled: Vec<T>,
}

impl<T: Copy> InlineList<T> {
    /// An empty list; `filler` only initialises the unused slots.
    pub(crate) fn new(filler: T) -> Self {
        Self {
            inline: [filler; INLINE_ITEMS],
            len: 0,
            spilled: Vec::new(),
        }
    }

    // Inlined so that an item goes from registers to the array: called, the
    // item was passed through memory and reloading it stalled on every push.
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if self.len < INLINE_ITEMS {
            self.inline[self.len] = item;
            self.len += 1;
        } else {
            if self.spilled.is_empty() {
                self.spilled.reserve(2 * INLINE_ITEMS);
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(item);
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.spilled.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spilled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_item_in_order_across_the_spill() {
        for len in [0, 1, INLINE_ITEMS - 1, INLINE_ITEMS, INLINE_ITEMS + 1, 50] {
            let mut list = InlineList::new(0usize);
            for i in 0..len {
                list.push(i);
            }
            assert_eq!(list.as_slice(), (0..len).collect::<Vec<_>>(), "{len}");
            list.as_mut_slice().reverse();
            assert_eq!(list.as_slice(), (0..len).rev().collect::<Vec<_>>());
        }
    }
}
