/* placeholder: netmap module, being written */
