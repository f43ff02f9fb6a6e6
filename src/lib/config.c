/* placeholder: config module, being written */
