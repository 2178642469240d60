//! Scanner and parser of one `[...]` expression, after ARM's `ExpressionScanner` and
//! `ExpressionParser`. Every span is a byte range in the whole template string, brackets included.

use std::ops::Range;

use super::limits::{MAX_DEPTH, MAX_EXPRESSION_CHARS};
use super::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Str {
        value: String,
        span: Range<usize>,
    },
    Int {
        value: i64,
        span: Range<usize>,
    },
    /// A bare `true` / `false` (ARM itself only knows `true()` / `false()`).
    Bool {
        value: bool,
        span: Range<usize>,
    },
    /// `name(args)`; `name` as written, possibly `namespace.name`.
    Call {
        name: String,
        args: Vec<Node>,
        span: Range<usize>,
    },
    /// `base.name`
    Property {
        base: Box<Node>,
        name: String,
        span: Range<usize>,
    },
    /// `base[index]`
    Index {
        base: Box<Node>,
        index: Box<Node>,
        span: Range<usize>,
    },
}

impl Node {
    pub(super) fn span(&self) -> Range<usize> {
        match self {
            Node::Str { span, .. }
            | Node::Int { span, .. }
            | Node::Bool { span, .. }
            | Node::Call { span, .. }
            | Node::Property { span, .. }
            | Node::Index { span, .. } => span.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Str(String),
    Int(i64),
    Ident(String),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".to_owned(),
            Tok::RParen => "`)`".to_owned(),
            Tok::LBracket => "`[`".to_owned(),
            Tok::RBracket => "`]`".to_owned(),
            Tok::Comma => "`,`".to_owned(),
            Tok::Dot => "`.`".to_owned(),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Int(_) => "an integer".to_owned(),
            Tok::Ident(name) => format!("`{name}`"),
            Tok::End => "the end of the expression".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Range<usize>,
}

fn error(message: impl Into<String>, span: Range<usize>) -> ExprError {
    ExprError {
        message: message.into(),
        span,
    }
}

fn too_deep(span: Range<usize>) -> ExprError {
    error(
        format!("the expression is nested more than {MAX_DEPTH} levels deep, cmk-check's limit"),
        span,
    )
}

/// ARM's identifier characters: letters, digits, `$` and `_`.
fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '$' || c == '_'
}

/// Parses `raw`, a string that starts with `[` and ends with `]`.
pub(super) fn parse(raw: &str) -> Result<Node, ExprError> {
    let whole = 0..raw.len();
    let body_end = raw.len().saturating_sub(1);
    let body = raw
        .get(1..body_end)
        .ok_or_else(|| error("not an expression", whole.clone()))?;
    if let Some(beyond) = beyond_length(body) {
        return Err(error(
            format!("the expression is longer than {MAX_EXPRESSION_CHARS} characters, ARM's limit"),
            1 + beyond..body_end,
        ));
    }
    let tokens = scan(body, 1, body_end..raw.len())?;
    if tokens.first().is_some_and(|token| token.tok == Tok::End) {
        return Err(error("the expression is empty", whole));
    }
    let end = Token {
        tok: Tok::End,
        span: body_end..raw.len(),
    };
    let mut parser = Parser {
        tokens,
        pos: 0,
        end,
    };
    let (node, _) = parser.expression(0)?;
    let next = parser.next();
    if next.tok != Tok::End {
        return Err(error(
            format!(
                "unexpected {} after the end of the expression",
                next.tok.describe()
            ),
            next.span,
        ));
    }
    Ok(node)
}

/// The byte offset, in `text`, of its first character beyond ARM's limit on an expression's length
/// (counted in UTF-16 code units, as .NET counts characters).
pub(super) fn beyond_length(text: &str) -> Option<usize> {
    if text.len() <= MAX_EXPRESSION_CHARS {
        return None;
    }
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > MAX_EXPRESSION_CHARS {
            return Some(at);
        }
    }
    None
}

/// Splits `body` (which starts at byte `offset` of the template string) into tokens; the last
/// one is `End`, spanning `end_span` (the closing `]`).
fn scan(body: &str, offset: usize, end_span: Range<usize>) -> Result<Vec<Token>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let start = offset + at;
        let single = start..start + c.len_utf8();
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '.' => Tok::Dot,
            '\'' => {
                let mut value = String::new();
                let close = loop {
                    match chars.next() {
                        None => {
                            return Err(error(
                                "unterminated string: a `'` is missing",
                                start..offset + body.len(),
                            ))
                        }
                        Some((_, '\'')) if chars.peek().is_some_and(|&(_, next)| next == '\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some((quote, '\'')) => break quote,
                        Some((_, other)) => value.push(other),
                    }
                };
                tokens.push(Token {
                    tok: Tok::Str(value),
                    span: start..offset + close + 1,
                });
                continue;
            }
            '+' | '-' | '0'..='9' => {
                let (tok, len) = number(body, at, offset)?;
                // The number is ASCII; skip its remaining characters.
                for _ in 1..len {
                    chars.next();
                }
                tokens.push(Token {
                    tok,
                    span: start..start + len,
                });
                continue;
            }
            c if is_identifier_char(c) => {
                let mut end = at + c.len_utf8();
                while let Some(&(next_at, next)) = chars.peek() {
                    if !is_identifier_char(next) {
                        break;
                    }
                    end = next_at + next.len_utf8();
                    chars.next();
                }
                let name = body.get(at..end).unwrap_or_default().to_owned();
                tokens.push(Token {
                    tok: Tok::Ident(name),
                    span: start..offset + end,
                });
                continue;
            }
            other => {
                return Err(error(
                    format!("unexpected character `{other}` in the expression"),
                    single,
                ))
            }
        };
        tokens.push(Token { tok, span: single });
    }
    tokens.push(Token {
        tok: Tok::End,
        span: end_span,
    });
    Ok(tokens)
}

/// Scans the number starting at byte `at` of `body`: its token and its length in bytes.
fn number(body: &str, at: usize, offset: usize) -> Result<(Tok, usize), ExprError> {
    let bytes = body.as_bytes();
    let byte = |i: usize| bytes.get(i).copied();
    let digits = |mut i: usize| {
        while byte(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        i
    };
    let mut end = at;
    if matches!(byte(end), Some(b'+' | b'-')) {
        end += 1;
    }
    end = digits(end);
    let mut fraction = false;
    if byte(end) == Some(b'.') {
        fraction = true;
        end = digits(end + 1);
    }
    if matches!(byte(end), Some(b'e' | b'E')) && end + 1 < bytes.len() {
        end += if matches!(byte(end + 1), Some(b'+' | b'-')) {
            2
        } else {
            1
        };
        fraction = true;
        end = digits(end);
    }
    let span = offset + at..offset + end;
    if let Some(next) = body.get(end..).and_then(|rest| rest.chars().next()) {
        if is_identifier_char(next) {
            return Err(error(
                format!("unexpected character `{next}` after a number"),
                offset + end..offset + end + next.len_utf8(),
            ));
        }
    }
    let text = body.get(at..end).unwrap_or_default();
    if fraction {
        return Err(error(
            format!(
                "`{text}`: numbers with a fraction or an exponent are not allowed in expressions"
            ),
            span,
        ));
    }
    // ARM reads integer literals as 32-bit integers.
    match text.parse::<i32>() {
        Ok(value) => Ok((Tok::Int(i64::from(value)), end - at)),
        Err(_) => Err(error(
            format!("`{text}` is not a valid 32-bit integer"),
            span,
        )),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: Token,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&self.end)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Token, ExprError> {
        let token = self.next();
        if &token.tok == tok {
            Ok(token)
        } else {
            Err(error(
                format!("expected {what}, found {}", token.tok.describe()),
                token.span,
            ))
        }
    }

    /// An expression and the height of its tree. `depth` is how deep it sits in the whole tree
    /// as far as the parser knows (the accessors that may follow an enclosing call come later):
    /// checking it keeps the recursion bounded, checking heights keeps the whole tree bounded.
    fn expression(&mut self, depth: usize) -> Result<(Node, usize), ExprError> {
        let token = self.next();
        if depth >= MAX_DEPTH {
            return Err(too_deep(token.span));
        }
        match token.tok {
            Tok::Str(value) => Ok((
                Node::Str {
                    value,
                    span: token.span,
                },
                1,
            )),
            Tok::Int(value) => Ok((
                Node::Int {
                    value,
                    span: token.span,
                },
                1,
            )),
            Tok::Ident(name) => self.call(name, token.span, depth),
            other => Err(error(
                format!(
                    "expected a string, an integer or a function call, found {}",
                    other.describe()
                ),
                token.span,
            )),
        }
    }

    fn call(
        &mut self,
        mut name: String,
        name_span: Range<usize>,
        depth: usize,
    ) -> Result<(Node, usize), ExprError> {
        if self.peek().tok == Tok::Dot {
            // `namespace.function(...)`: a user-defined function.
            self.next();
            let member = self.next();
            match member.tok {
                Tok::Ident(member_name) => {
                    name.push('.');
                    name.push_str(&member_name);
                }
                other => {
                    return Err(error(
                        format!(
                            "expected a function name after `{name}.`, found {}",
                            other.describe()
                        ),
                        member.span,
                    ))
                }
            }
        } else if self.peek().tok != Tok::LParen && (name == "true" || name == "false") {
            return Ok((
                Node::Bool {
                    value: name == "true",
                    span: name_span,
                },
                1,
            ));
        }
        if self.peek().tok != Tok::LParen {
            let found = self.next();
            return Err(error(
                format!(
                    "expected `(` after the function name `{name}`, found {}",
                    found.tok.describe()
                ),
                found.span,
            ));
        }
        self.next();
        let mut args = Vec::new();
        let mut height = 1;
        let close = if self.peek().tok == Tok::RParen {
            self.next()
        } else {
            loop {
                let (arg, arg_height) = self.expression(depth + 1)?;
                if arg_height >= MAX_DEPTH {
                    return Err(too_deep(arg.span()));
                }
                args.push(arg);
                height = height.max(arg_height + 1);
                let token = self.next();
                match token.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break token,
                    other => {
                        return Err(error(
                            format!(
                                "expected `,` or `)` in the arguments of `{name}`, found {}",
                                other.describe()
                            ),
                            token.span,
                        ))
                    }
                }
            }
        };
        let mut node = Node::Call {
            name,
            args,
            span: name_span.start..close.span.end,
        };
        // The accessors wrap the call one level each: the tree grows here without recursion, so
        // its height is checked before each new level is built.
        loop {
            let accessor = self.peek().clone();
            if matches!(accessor.tok, Tok::Dot | Tok::LBracket) && height >= MAX_DEPTH {
                return Err(too_deep(accessor.span));
            }
            match accessor.tok {
                Tok::Dot => {
                    self.next();
                    let token = self.next();
                    let Tok::Ident(property) = token.tok else {
                        return Err(error(
                            format!(
                                "expected a property name after `.`, found {}",
                                token.tok.describe()
                            ),
                            token.span,
                        ));
                    };
                    let span = node.span().start..token.span.end;
                    node = Node::Property {
                        base: Box::new(node),
                        name: property,
                        span,
                    };
                    height += 1;
                }
                Tok::LBracket => {
                    self.next();
                    let (index, index_height) = self.expression(depth + 1)?;
                    let close = self.expect(&Tok::RBracket, "`]`")?;
                    let span = node.span().start..close.span.end;
                    node = Node::Index {
                        base: Box::new(node),
                        index: Box::new(index),
                        span,
                    };
                    height = height.max(index_height) + 1;
                    if height > MAX_DEPTH {
                        return Err(too_deep(close.span));
                    }
                }
                _ => return Ok((node, height)),
            }
        }
    }
}
