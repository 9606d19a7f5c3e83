//! Pre-computed, pre-sorted video lists, so a page is served without scanning
//! the catalogue.

use std::collections::HashMap;

use crate::data::Dataset;

/// Cata part of a bucket key: 0 = any category, `2*slot` = exactly that
/// category, `2*slot + 1` = that category and its whole subtree.
type CataKey = u32;

#[derive(Debug, Default)]
pub(crate) struct Lists {
    /// Video indexes sorted by (ptime, vid) ascending.
    pub(crate) by_ptime: Vec<u32>,
    /// Video indexes sorted by (times, vid) ascending.
    pub(crate) by_times: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct UserIndex {
    pub(crate) account: usize,
    emails: HashMap<String, u32>,
    categories: HashMap<u64, u32>,
    /// Ancestor chain (self first) of each category slot; index 0 unused.
    chains: Vec<Vec<u32>>,
    /// Dense table: bucket key -> list id (`u32::MAX`: no list yet).
    buckets: Vec<u32>,
}

impl UserIndex {
    pub(crate) fn email_slot(&self, email: &str) -> Option<u32> {
        self.emails.get(email).copied()
    }
    pub(crate) fn cata_slot(&self, cataid: u64) -> Option<u32> {
        self.categories.get(&cataid).copied()
    }
    fn n_cata_keys(&self) -> usize {
        2 * (self.chains.len().max(1) - 1) + 2
    }
    fn bucket_pos(&self, email: u32, cata: CataKey, published: bool) -> usize {
        (email as usize * self.n_cata_keys() + cata as usize) * 2 + usize::from(published)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    users: HashMap<String, UserIndex>,
    lists: Vec<Lists>,
}

static EMPTY: Lists = Lists {
    by_ptime: Vec::new(),
    by_times: Vec::new(),
};

impl Index {
    pub(crate) fn build(ds: &Dataset) -> Index {
        let mut users: HashMap<String, UserIndex> = HashMap::new();
        for (ai, acc) in ds.accounts.iter().enumerate() {
            if users.contains_key(&acc.user_id) {
                continue; // duplicate account: the first wins
            }
            let mut emails = HashMap::new();
            for e in &acc.sub_accounts {
                let next = emails.len() as u32 + 1;
                emails.entry(e.clone()).or_insert(next);
            }
            let mut categories = HashMap::new();
            let mut parents: Vec<Option<u64>> = Vec::new();
            for c in ds.categories.iter().filter(|c| c.user_id == acc.user_id) {
                if let std::collections::hash_map::Entry::Vacant(e) = categories.entry(c.id) {
                    parents.push(c.parent);
                    e.insert(parents.len() as u32);
                }
            }
            // Ancestor chains, guarding against cycles in hand-built data.
            let mut chains = vec![Vec::new(); parents.len() + 1];
            for slot in 1..=parents.len() as u32 {
                let mut chain = vec![slot];
                let mut cur = slot;
                while let Some(Some(p)) = parents.get(cur as usize - 1) {
                    match categories.get(p) {
                        Some(&ps) if !chain.contains(&ps) => {
                            chain.push(ps);
                            cur = ps;
                        }
                        _ => break,
                    }
                }
                if let Some(c) = chains.get_mut(slot as usize) {
                    *c = chain;
                }
            }
            let mut u = UserIndex {
                account: ai,
                emails,
                categories,
                chains,
                buckets: Vec::new(),
            };
            u.buckets = vec![u32::MAX; (u.emails.len() + 1) * u.n_cata_keys() * 2];
            users.insert(acc.user_id.clone(), u);
        }

        // Bucket memberships of each video, flat.
        let n = ds.videos.len();
        let mut starts: Vec<u32> = Vec::with_capacity(n + 1);
        let mut members: Vec<u32> = Vec::with_capacity(n * 12);
        let mut n_lists: u32 = 0;
        let mut catas: Vec<CataKey> = Vec::with_capacity(16);
        for v in &ds.videos {
            starts.push(members.len() as u32);
            let Some(u) = users.get_mut(&v.user_id) else {
                continue;
            };
            // Only sub-accounts' videos are listed (the main account's are not).
            let Some(es) = u.email_slot(&v.uploader_email) else {
                continue;
            };
            catas.clear();
            catas.push(0);
            if let Some(cs) = u.cata_slot(v.cataid) {
                catas.push(2 * cs);
                if let Some(chain) = u.chains.get(cs as usize) {
                    catas.extend(chain.iter().map(|s| 2 * s + 1));
                }
            }
            let published = v.is_published();
            for e in [0, es] {
                for &c in &catas {
                    for p in [false, true] {
                        if p && !published {
                            continue;
                        }
                        let pos = u.bucket_pos(e, c, p);
                        if let Some(slot) = u.buckets.get_mut(pos) {
                            if *slot == u32::MAX {
                                *slot = n_lists;
                                n_lists += 1;
                            }
                            members.push(*slot);
                        }
                    }
                }
            }
        }
        starts.push(members.len() as u32);

        let mut lists: Vec<Lists> = (0..n_lists).map(|_| Lists::default()).collect();
        let vids = &ds.videos;
        let mut by_ptime: Vec<(i64, &str, u32)> = vids
            .iter()
            .enumerate()
            .map(|(i, v)| (v.ptime, v.vid.as_str(), i as u32))
            .collect();
        by_ptime.sort_unstable();
        for &(_, _, i) in &by_ptime {
            for m in members_of(&starts, &members, i) {
                if let Some(l) = lists.get_mut(*m as usize) {
                    l.by_ptime.push(i);
                }
            }
        }
        drop(by_ptime);
        let mut by_times: Vec<(u64, &str, u32)> = vids
            .iter()
            .enumerate()
            .map(|(i, v)| (v.times, v.vid.as_str(), i as u32))
            .collect();
        by_times.sort_unstable();
        for &(_, _, i) in &by_times {
            for m in members_of(&starts, &members, i) {
                if let Some(l) = lists.get_mut(*m as usize) {
                    l.by_times.push(i);
                }
            }
        }
        Index { users, lists }
    }

    pub(crate) fn user(&self, user_id: &str) -> Option<&UserIndex> {
        self.users.get(user_id)
    }

    /// The list for a filter. `email`: slot or `None` for all sub-accounts;
    /// `cata`: (slot, include subtree) or `None` for every category.
    pub(crate) fn lists(
        &self,
        user: &UserIndex,
        email: Option<u32>,
        cata: Option<(u32, bool)>,
        published: bool,
    ) -> &Lists {
        let c = match cata {
            None => 0,
            Some((slot, false)) => 2 * slot,
            Some((slot, true)) => 2 * slot + 1,
        };
        user.buckets
            .get(user.bucket_pos(email.unwrap_or(0), c, published))
            .and_then(|&id| self.lists.get(id as usize))
            .unwrap_or(&EMPTY)
    }
}

fn members_of<'a>(starts: &[u32], members: &'a [u32], i: u32) -> &'a [u32] {
    let (Some(&a), Some(&b)) = (starts.get(i as usize), starts.get(i as usize + 1)) else {
        return &[];
    };
    members.get(a as usize..b as usize).unwrap_or(&[])
}
