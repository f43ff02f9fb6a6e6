/* placeholder: policy module, being written */
