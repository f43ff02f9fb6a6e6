/* placeholder: naming module, being written */
