/* placeholder: codepoint_crypto module, being written */
