//! How deeply a template's expressions nest, measured from its tokens before minijinja parses
//! it.
//!
//! minijinja's parser limits the nesting of brackets and blocks, but not chains of operators:
//! `not not … x`, `- - … 1`, `a + b + …`, `x|f|f|…`, `x.a.b…`, `a if b else c if …` parse in a
//! loop into a tree as deep as the chain, which the compiler and the tree's destructor then
//! walk recursively, overflowing the stack (an abort, not an error) at a few thousand levels.
//! This check counts, inside each `{{ … }}` and `{% … %}`, every operator and opening bracket
//! on the way from the outermost expression to the current token (a comma starts a sibling,
//! which does not count towards the one before it); that count bounds the depth of the tree.
//! The tokens come from minijinja's own tokenizer, so the check sees exactly what the parser
//! will see.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use minijinja::machinery::{Token, Tokenizer};
use minijinja::syntax::SyntaxConfig;

use crate::source::Span;

/// The deepest an expression may nest. Real templates stay far below (a few levels); minijinja
/// itself refuses brackets nested more than about 150 deep. Compiling a tree this deep takes
/// well under 1 MiB of stack in a debug build.
pub const MAX_NESTING: usize = 300;

/// Where a template nests too deeply: the byte range of the token that went past the limit.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "template error: expression nested more than {} levels deep (chained operators, filters or brackets); split it with {{% set %}}",
    MAX_NESTING
)]
pub struct TooDeep {
    pub start: usize,
    pub end: usize,
}

impl TooDeep {
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// Checks every expression of `source`. Tokens the tokenizer cannot read end the check: the
/// parser stops at the same place with its own error.
pub fn check(source: &str, syntax: SyntaxConfig) -> Result<(), TooDeep> {
    let mut tokenizer = Tokenizer::new(source, "template", false, syntax);
    // Operators counted at each open bracket level; their sum is the depth.
    let mut levels: Vec<usize> = vec![0];
    let mut depth: usize = 0;
    while let Ok(Some((token, span))) = tokenizer.next_token() {
        match token {
            Token::VariableStart | Token::VariableEnd | Token::BlockStart | Token::BlockEnd => {
                levels.clear();
                levels.push(0);
                depth = 0;
            }
            Token::Comma => {
                if let Some(count) = levels.last_mut() {
                    depth = depth.saturating_sub(*count);
                    *count = 0;
                }
            }
            Token::ParenClose | Token::BracketClose | Token::BraceClose => {
                if levels.len() > 1
                    && let Some(count) = levels.pop()
                {
                    depth = depth.saturating_sub(count);
                }
            }
            token => {
                let opens = matches!(
                    token,
                    Token::ParenOpen | Token::BracketOpen | Token::BraceOpen
                );
                if opens || is_operator(&token) {
                    if let Some(count) = levels.last_mut() {
                        *count = count.saturating_add(1);
                    }
                    depth = depth.saturating_add(1);
                    if depth > MAX_NESTING {
                        return Err(TooDeep {
                            start: span.start_offset as usize,
                            end: span.end_offset as usize,
                        });
                    }
                }
                if opens {
                    levels.push(0);
                }
            }
        }
    }
    Ok(())
}

/// Tokens that put what follows one level deeper (prefix, infix and postfix operators, and
/// the keywords among them).
fn is_operator(token: &Token<'_>) -> bool {
    match token {
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::FloorDiv
        | Token::Pow
        | Token::Mod
        | Token::Dot
        | Token::Tilde
        | Token::Pipe
        | Token::Eq
        | Token::Ne
        | Token::Gt
        | Token::Gte
        | Token::Lt
        | Token::Lte => true,
        Token::Ident(word) => matches!(*word, "not" | "and" | "or" | "in" | "is" | "if" | "else"),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn depth_ok(source: &str) -> bool {
        check(source, SyntaxConfig::default()).is_ok()
    }

    #[test]
    fn chains_of_every_kind_are_measured() {
        let n = MAX_NESTING + 1;
        let chains = [
            format!("{{{{ {}x }}}}", "not ".repeat(n)),
            format!("{{{{ {}1 }}}}", "-".repeat(n)),
            format!("{{{{ 1{} }}}}", " + 1".repeat(n)),
            format!("{{{{ 1{} }}}}", " ~ 1".repeat(n)),
            format!("{{{{ x{} }}}}", "|abs".repeat(n)),
            format!("{{{{ x{} }}}}", " is defined".repeat(n)),
            format!("{{{{ x{} }}}}", ".a".repeat(n)),
            format!("{{{{ x{} }}}}", "[0]".repeat(n)),
            format!("{{{{ f{} }}}}", "()".repeat(n)),
            format!("{{{{ 1{} }}}}", " if 1 else 1".repeat(n)),
            format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n)),
            format!("{{{{ {}{} }}}}", "[".repeat(n), "]".repeat(n)),
            format!("{{% set x = {}1 %}}", "not ".repeat(n)),
            format!("{{% if {}x %}}{{% endif %}}", "- ".repeat(n)),
        ];
        for source in chains {
            let error = check(&source, SyntaxConfig::default()).unwrap_err();
            assert!(error.start > 0 && error.end > error.start, "{source}");
        }
    }

    #[test]
    fn siblings_do_not_add_up() {
        let list = format!("{{{{ [{}] }}}}", vec!["a + b"; 2 * MAX_NESTING].join(", "));
        assert!(depth_ok(&list));
        let many = "{{ a.b|default(1) ~ c }}\n".repeat(10_000);
        assert!(depth_ok(&many));
        let args = format!("{{{{ f({}) }}}}", vec!["x|y"; 1000].join(", "));
        assert!(depth_ok(&args));
        let closed = format!("{{{{ {} }}}}", vec!["(1 + 2)"; 400].join(" ~ "));
        assert!(!depth_ok(&closed), "the chain between the groups is one");
        let just = format!("{{{{ x{} }}}}", ".a".repeat(MAX_NESTING));
        assert!(depth_ok(&just));
    }

    #[test]
    fn text_comments_strings_and_raw_blocks_are_not_expressions() {
        let dashes = "-".repeat(10 * MAX_NESTING);
        for source in [
            format!("{dashes}\n"),
            format!("{{# {dashes} #}}"),
            format!("{{{{ \"{dashes}\" }}}}"),
            format!("{{% raw %}}{{{{ {dashes}1 }}}}{{% endraw %}}"),
        ] {
            assert!(depth_ok(&source), "{source}");
        }
    }

    #[test]
    fn each_tag_starts_afresh() {
        let tag = format!("{{{{ 1{} }}}}", " + 1".repeat(MAX_NESTING - 1));
        assert!(depth_ok(&tag.repeat(100)));
    }

    #[test]
    fn the_error_points_at_the_token_past_the_limit() {
        let source = format!("line\n{{{{ {}x }}}}", "not ".repeat(MAX_NESTING + 5));
        let error = check(&source, SyntaxConfig::default()).unwrap_err();
        let at = 5 + 3 + 4 * MAX_NESTING;
        assert_eq!((error.start, error.end), (at, at + 3));
    }
}
