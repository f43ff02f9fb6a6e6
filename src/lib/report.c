/* placeholder: report module, being written */
