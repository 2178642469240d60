//! The two hashes ARM exposes to templates: `uniqueString()` and `guid()`.
//!
//! `uniqueString()` is not the MurmurHash64A of the literature: ARM uses its own 64-bit variant
//! (`Microsoft.WindowsAzure.ResourceStack.Common.Algorithms.ComputeHash.MurmurHash64`): two
//! 32-bit lanes with MurmurHash3-x86 constants, fed 8 bytes at a time, then base-32 encoded from
//! the most significant bits. `guid()` is a plain RFC 4122 name-based UUID (version 5, SHA-1).

/// `uniqueString()` of the already joined arguments.
pub(super) fn unique_string(joined: &str) -> String {
    base32(murmur64(joined.as_bytes()))
}

/// `guid()` of the already joined arguments.
pub(super) fn guid(joined: &str) -> String {
    uuid_v5(&ARM_GUID_NAMESPACE, joined.as_bytes())
}

/// `11fb06fb-712d-4ddd-98c7-e71bbd588830`, in network byte order.
const ARM_GUID_NAMESPACE: [u8; 16] = [
    0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30,
];

/// Little-endian value of up to 4 bytes.
fn le32(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, &byte| (acc << 8) | u32::from(byte))
}

fn murmur64(data: &[u8]) -> u64 {
    const C1: u32 = 0x239b_961b;
    const C2: u32 = 0xab0e_9789;
    let mut h1: u32 = 0;
    let mut h2: u32 = 0;
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let (low, high) = block.split_at(4);
        let k1 = le32(low).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 = (h1 ^ k1)
            .rotate_left(19)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x561c_cd1b);
        let k2 = le32(high).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        h2 = (h2 ^ k2)
            .rotate_left(13)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let (low, high) = tail.split_at(tail.len().min(4));
        h1 ^= le32(low).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        if !high.is_empty() {
            h2 ^= le32(high).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        }
    }
    // ARM casts the length to a 32-bit unsigned integer, dropping the high bits.
    let length = (data.len() as u64 & 0xffff_ffff) as u32;
    h1 ^= length;
    h2 ^= length;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix32(h1);
    h2 = fmix32(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// 13 characters, 5 bits each from the most significant end (the last one gets 4 bits).
fn base32(mut value: u64) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        out.push(char::from(ALPHABET[(value >> 59) as usize & 31]));
        value <<= 5;
    }
    out
}

pub(super) fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut input = Vec::with_capacity(16 + name.len());
    input.extend_from_slice(namespace);
    input.extend_from_slice(name);
    let digest = sha1(&input);
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(digest) {
        *slot = byte;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// SHA-1 (FIPS 180-4). Used for name-based UUIDs only, not for security.
pub(super) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let bit_length = (data.len() as u64).wrapping_mul(8);
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_length.to_be_bytes());

    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (slot, word) in w.iter_mut().zip(block.chunks_exact(4)) {
            *slot = word
                .iter()
                .fold(0, |acc, &byte| (acc << 8) | u32::from(byte));
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = state;
        for (t, &word) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (slot, add) in state.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(add);
        }
    }

    let mut digest = [0u8; 20];
    for (chunk, word) in digest.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    digest
}
