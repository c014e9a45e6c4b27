//! The text conventions of one file (UTF-8 BOM, CRLF line endings) and binary detection, so a merge can work on
//! plain LF text and give the child its own conventions back.

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many leading bytes are searched for a NUL, as git does to call a file binary.
const BINARY_PROBE: usize = 8000;

/// True when git would call these bytes binary: a NUL byte near the start.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(BINARY_PROBE).any(|&byte| byte == 0)
}

/// The conventions a text file carries beyond its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStyle {
    /// Starts with a UTF-8 byte order mark.
    pub bom: bool,
    /// Every line ends with CRLF (files with mixed endings are left as they are).
    pub crlf: bool,
}

impl TextStyle {
    /// The style of a text file; binary files have the plain style and are never rewritten.
    pub fn of(bytes: &[u8]) -> Self {
        if is_binary(bytes) {
            return Self::default();
        }
        let newlines = bytes.iter().filter(|&&byte| byte == b'\n').count();
        let crlf_newlines = bytes.windows(2).filter(|pair| pair == b"\r\n").count();
        Self {
            bom: bytes.starts_with(BOM),
            crlf: newlines > 0 && newlines == crlf_newlines,
        }
    }

    pub fn is_plain(self) -> bool {
        self == Self::default()
    }
}

/// The bytes as plain LF text without a BOM (binary and plain files come back unchanged).
pub fn normalise(bytes: &[u8]) -> Vec<u8> {
    let style = TextStyle::of(bytes);
    let body = if style.bom {
        &bytes[BOM.len()..]
    } else {
        bytes
    };
    if !style.crlf {
        return body.to_vec();
    }
    let mut plain = Vec::with_capacity(body.len());
    let mut index = 0;
    while index < body.len() {
        if body[index] == b'\r' && body.get(index + 1) == Some(&b'\n') {
            index += 1;
            continue;
        }
        plain.push(body[index]);
        index += 1;
    }
    plain
}

/// Gives plain LF text the style of a file: CRLF on every line, a BOM in front.
pub fn apply_style(plain: &[u8], style: TextStyle) -> Vec<u8> {
    let mut styled = Vec::with_capacity(plain.len() + plain.len() / 16 + BOM.len());
    if style.bom && !plain.starts_with(BOM) {
        styled.extend_from_slice(BOM);
    }
    for (index, &byte) in plain.iter().enumerate() {
        if style.crlf && byte == b'\n' && (index == 0 || plain[index - 1] != b'\r') {
            styled.push(b'\r');
        }
        styled.push(byte);
    }
    styled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_text_round_trips_through_plain_text() {
        let original = b"\xEF\xBB\xBFone\r\ntwo\r\nno final newline";
        let style = TextStyle::of(original);
        assert_eq!(
            style,
            TextStyle {
                bom: true,
                crlf: true
            }
        );
        let plain = normalise(original);
        assert_eq!(plain, b"one\ntwo\nno final newline");
        assert_eq!(apply_style(&plain, style), original);
    }

    #[test]
    fn mixed_endings_and_binary_are_left_alone() {
        let mixed = b"one\r\ntwo\nthree\r\n";
        assert!(TextStyle::of(mixed).is_plain());
        assert_eq!(normalise(mixed), mixed);
        let binary = b"PNG\0\r\n\x01";
        assert!(is_binary(binary));
        assert_eq!(normalise(binary), binary);
    }
}
