/* placeholder: model module, being written */
