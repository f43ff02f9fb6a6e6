/* placeholder: live module, being written */
