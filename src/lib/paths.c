/* placeholder: paths module, being written */
