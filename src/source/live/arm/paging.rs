//! The bounds of one paged read: a link followed twice ends it, and so do its limits.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

use super::error::{ArmError, Truncation};

/// The bounds of one paged read, and the links it followed.
pub(super) struct Pager {
    what: &'static str,
    pages: usize,
    bytes: usize,
    max_pages: usize,
    max_items: usize,
    max_bytes: usize,
    /// Hashes of the links or skip tokens followed: a server picks their length.
    followed: HashSet<u64>,
}

impl Pager {
    pub(super) fn new(
        what: &'static str,
        max_pages: usize,
        max_items: usize,
        max_bytes: usize,
    ) -> Self {
        Self {
            what,
            pages: 0,
            bytes: 0,
            max_pages,
            max_items,
            max_bytes,
            followed: HashSet::new(),
        }
    }

    pub(super) fn truncated(&self, why: Truncation) -> ArmError {
        ArmError::Truncated {
            what: self.what,
            after: self.pages,
            why,
        }
    }

    /// Before asking for the next page: stop at a link already followed and at the page limit.
    pub(super) fn follow(&mut self, link: &str) -> Result<(), ArmError> {
        let mut hasher = DefaultHasher::new();
        link.hash(&mut hasher);
        if !self.followed.insert(hasher.finish()) {
            return Err(self.truncated(Truncation::Repeated));
        }
        if self.pages >= self.max_pages {
            return Err(self.truncated(Truncation::Pages(self.max_pages)));
        }
        Ok(())
    }

    /// A page read: its items join the others unless they pass the limits.
    pub(super) fn take(
        &mut self,
        items: &mut Vec<Value>,
        page: &mut Vec<Value>,
        bytes: usize,
    ) -> Result<(), ArmError> {
        self.pages += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.max_bytes {
            return Err(self.truncated(Truncation::Bytes(self.max_bytes)));
        }
        if items.len().saturating_add(page.len()) > self.max_items {
            return Err(self.truncated(Truncation::Items(self.max_items)));
        }
        items.append(page);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pager_stops_at_a_link_followed_before_and_at_its_limits() {
        let mut pager = Pager::new("ARM's list", 2, 3, 100);
        let mut items = Vec::new();
        pager.follow("a").unwrap();
        pager.take(&mut items, &mut vec![json!(1)], 10).unwrap();
        assert_eq!(
            pager.follow("a"),
            Err(ArmError::Truncated {
                what: "ARM's list",
                after: 1,
                why: Truncation::Repeated
            })
        );
        pager.follow("b").unwrap();
        pager.take(&mut items, &mut vec![json!(2)], 10).unwrap();
        let pages = pager.follow("c").unwrap_err();
        assert_eq!(
            pages.to_string(),
            "ARM's list was not read to its end: it has more than 2 pages; a partial list is not checked"
        );
        assert!(pages.remedy().unwrap().contains("Azure portal"));

        let mut pager = Pager::new("the Azure Resource Graph query", 10, 3, 100);
        let mut rows = vec![json!(1), json!(2)];
        let items = pager.take(&mut rows, &mut vec![json!(3), json!(4)], 10);
        assert_eq!(items.unwrap_err().to_string(), "the Azure Resource Graph query was not read to its end: it holds more than 3 items (stopped after 1 page); a partial list is not checked");
        assert_eq!(rows.len(), 2, "a page past the limit is not kept");
        let bytes = pager.take(&mut rows, &mut Vec::new(), 91);
        assert!(bytes
            .unwrap_err()
            .to_string()
            .contains("its pages add up to more than 100 bytes (stopped after 2 pages)"));
    }
}
