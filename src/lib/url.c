/* placeholder: url module, being written */
