//! Parsing a migration with sqlparser's PostgreSQL dialect, one statement at a time so each keeps
//! its line. `DO $$ ... $$` blocks are PL/pgSQL, which sqlparser does not parse: their bodies are
//! tokenized and the SQL statements inside (a guarded `REVOKE ... FROM anon, authenticated`, say) are
//! parsed on their own.

use sqlparser::ast::{ObjectName, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// A statement of a migration and the line it starts on.
#[derive(Debug, Clone)]
pub struct LocatedStatement {
    pub statement: Statement,
    pub line: u64,
}

/// Why a migration does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    pub line: u64,
}

/// Parses every statement of `text`, or says where the first one fails.
pub fn parse_migration(text: &str) -> Result<Vec<LocatedStatement>, SqlError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|error| SqlError {
            message: error.message,
            line: error.location.line,
        })?;
    let mut statements = Vec::new();
    for chunk in split_statements(tokens) {
        let line = chunk[0].span.start.line;
        if is_keyword(&chunk[0].token, Keyword::DO) {
            statements.extend(do_block_statements(&chunk));
            continue;
        }
        let statement = parse_one(&dialect, chunk).map_err(|error| located(error, line))?;
        statements.push(LocatedStatement { statement, line });
    }
    Ok(statements)
}

/// The table a statement names, as `schema.table` in lower case (`public` when unqualified).
pub fn table_key(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident())
        .map(|ident| {
            if ident.quote_style.is_some() {
                ident.value.clone()
            } else {
                ident.value.to_lowercase()
            }
        })
        .collect();
    match parts.as_slice() {
        [table] => format!("public.{table}"),
        [.., schema, table] => format!("{schema}.{table}"),
        [] => String::new(),
    }
}

/// Splits on top-level semicolons, dropping whitespace and comments; each chunk starts at a real token.
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut chunks = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon | Token::EOF => {
                if !current.is_empty() {
                    chunks.push(std::mem::take(&mut current));
                }
            }
            Token::Whitespace(_) if current.is_empty() => {}
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn parse_one(
    dialect: &PostgreSqlDialect,
    tokens: Vec<TokenWithSpan>,
) -> Result<Statement, ParserError> {
    let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens);
    let statement = parser.parse_statement()?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(ParserError::ParserError(format!(
            "unexpected `{}` after the statement{}",
            next.token, next.span.start
        )));
    }
    Ok(statement)
}

/// SQL statements inside a `DO` block's body: each piece between semicolons, from its first
/// REVOKE, GRANT, ALTER or CREATE keyword. PL/pgSQL around them (IF ... THEN) is skipped, and so is
/// a piece that does not parse.
fn do_block_statements(chunk: &[TokenWithSpan]) -> Vec<LocatedStatement> {
    let dialect = PostgreSqlDialect {};
    let Some((body, body_line)) = chunk.iter().find_map(|token| match &token.token {
        Token::DollarQuotedString(quoted) => Some((quoted.value.as_str(), token.span.start.line)),
        Token::SingleQuotedString(text) => Some((text.as_str(), token.span.start.line)),
        _ => None,
    }) else {
        return Vec::new();
    };
    let Ok(tokens) = Tokenizer::new(&dialect, body).tokenize_with_location() else {
        return Vec::new();
    };
    let mut statements = Vec::new();
    for piece in split_statements(tokens) {
        let start = piece.iter().position(|token| {
            [
                Keyword::REVOKE,
                Keyword::GRANT,
                Keyword::ALTER,
                Keyword::CREATE,
            ]
            .iter()
            .any(|keyword| is_keyword(&token.token, *keyword))
        });
        let Some(start) = start else { continue };
        let line = body_line + piece[start].span.start.line.saturating_sub(1);
        if let Ok(statement) = parse_one(&dialect, piece[start..].to_vec()) {
            statements.push(LocatedStatement { statement, line });
        }
    }
    statements
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(word) if word.keyword == keyword)
}

/// Uses the line sqlparser names in its message ("... at Line: 3, Column: 5") when there is one.
fn located(error: ParserError, fallback_line: u64) -> SqlError {
    let message = error.to_string();
    let line = message
        .rsplit_once("at Line: ")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(fallback_line);
    let message = match message.rsplit_once(" at Line: ") {
        Some((before, _)) => before.to_string(),
        None => message,
    };
    SqlError {
        message: message.trim_start_matches("sql parser error: ").to_string(),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_their_lines_and_do_blocks_yield_their_revokes() {
        let sql = "create table public.jobs (id uuid primary key, status text not null);\n\
                   alter table public.jobs enable row level security;\n\
                   do $$\nbegin\n  if exists (select 1 from pg_roles where rolname = 'anon') then\n    \
                   revoke all on table public.jobs from anon, authenticated;\n  end if;\nend\n$$;\n";
        let statements = parse_migration(sql).unwrap();
        assert_eq!(statements.len(), 3);
        assert!(matches!(statements[0].statement, Statement::CreateTable(_)));
        assert_eq!(statements[1].line, 2);
        assert!(matches!(statements[2].statement, Statement::Revoke(_)));
        assert_eq!(statements[2].line, 6);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let error = parse_migration("select 1;\n\ncreate tabel x (id int);\n").unwrap_err();
        assert_eq!(error.line, 3);
    }
}
