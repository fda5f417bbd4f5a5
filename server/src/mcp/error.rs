//! The MCP surface's errors mapped to JSON-RPC, in one place.

use rmcp::ErrorData as McpError;

use crate::gateway::Error;

impl From<Error> for McpError {
    fn from(e: Error) -> Self {
        match e {
            Error::UnknownTool(_) => McpError::invalid_params(e.to_string(), None),
            Error::NotAuthenticated | Error::CannotDecide | Error::ListUnavailable => {
                McpError::internal_error(e.to_string(), None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ErrorCode;

    #[test]
    fn unknown_tools_are_invalid_params_and_the_rest_internal() {
        let unknown = McpError::from(Error::UnknownTool("x__y".into()));
        assert_eq!(unknown.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(unknown.message, "Unknown tool: x__y");
        for e in [
            Error::NotAuthenticated,
            Error::CannotDecide,
            Error::ListUnavailable,
        ] {
            assert_eq!(McpError::from(e).code, ErrorCode::INTERNAL_ERROR);
        }
    }
}
