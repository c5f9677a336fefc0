//! Per-document string interning for names, prefixes and namespace URIs.
//!
//! Every element and attribute name is stored as small integers so that XPath name tests and
//! namespace look-ups compare numbers instead of strings. Messages are short-lived, so the
//! table only grows; it is an open-addressing hash table over one string buffer to keep
//! parsing at a handful of allocations per document.

/// An interned string, valid only within the [`Atoms`] table that produced it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct Atom(pub(crate) u32);

impl Atom {
    pub(crate) const EMPTY: Atom = Atom(0);
    pub(crate) const XML: Atom = Atom(1);
    pub(crate) const XML_NS: Atom = Atom(2);
}

pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
pub(crate) const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

#[derive(Clone, Debug)]
pub(crate) struct Atoms {
    buf: String,
    spans: Vec<(usize, usize)>,
    /// Slots hold `atom index + 1`; zero marks a free slot.
    table: Vec<u32>,
}

fn hash(s: &str) -> u64 {
    // Word-at-a-time multiply-rotate (the Fx hash): namespace URIs are long enough that a
    // byte-wise hash shows up in parsing profiles.
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h: u64 = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // The table indexes with the low bits; fold the well-mixed high bits down.
    h ^ (h >> 29)
}

impl Atoms {
    pub(crate) fn new() -> Atoms {
        let mut atoms = Atoms { buf: String::with_capacity(256), spans: Vec::with_capacity(16), table: vec![0; 64] };
        // Fixed positions: EMPTY, XML and XML_NS above.
        for s in ["", "xml", XML_NS] {
            atoms.intern(s);
        }
        atoms
    }

    pub(crate) fn get(&self, atom: Atom) -> &str {
        match self.spans.get(atom.0 as usize) {
            Some(&(start, len)) => self.buf.get(start..start + len).unwrap_or(""),
            None => "",
        }
    }

    fn slot(&self, s: &str) -> (usize, Option<Atom>) {
        let mask = self.table.len() - 1;
        let mut i = (hash(s) as usize) & mask;
        loop {
            match self.table[i] {
                0 => return (i, None),
                n => {
                    let atom = Atom(n - 1);
                    // Byte comparison: `get` would re-check char boundaries on every probe.
                    let (start, len) = self.spans[atom.0 as usize];
                    if len == s.len() && self.buf.as_bytes().get(start..start + len) == Some(s.as_bytes()) {
                        return (i, Some(atom));
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The atom for `s` if this table has seen it.
    pub(crate) fn lookup(&self, s: &str) -> Option<Atom> {
        self.slot(s).1
    }

    pub(crate) fn intern(&mut self, s: &str) -> Atom {
        let (slot, found) = self.slot(s);
        if let Some(atom) = found {
            return atom;
        }
        let atom = Atom(self.spans.len() as u32);
        self.spans.push((self.buf.len(), s.len()));
        self.buf.push_str(s);
        self.table[slot] = atom.0 + 1;
        if self.spans.len() * 2 > self.table.len() {
            self.grow();
        }
        atom
    }

    fn grow(&mut self) {
        let size = self.table.len() * 2;
        let mut table = vec![0u32; size];
        let mask = size - 1;
        for (n, &(start, len)) in self.spans.iter().enumerate() {
            let s = self.buf.get(start..start + len).unwrap_or("");
            let mut i = (hash(s) as usize) & mask;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = n as u32 + 1;
        }
        self.table = table;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_grows() {
        let mut a = Atoms::new();
        assert_eq!(a.lookup(""), Some(Atom::EMPTY));
        assert_eq!(a.lookup(XML_NS), Some(Atom::XML_NS));
        let ids: Vec<Atom> = (0..1000).map(|i| a.intern(&format!("name{i}"))).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(a.get(*id), format!("name{i}"));
            assert_eq!(a.lookup(&format!("name{i}")), Some(*id));
        }
        assert_eq!(a.lookup("absent"), None);
    }
}
