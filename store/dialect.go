package store

// dialect says what SQLite and PostgreSQL write differently, where a
// statement is built; everything else is written once. (Placeholders and
// SQLite's index hints are left to the PostgreSQL connection: see
// toPostgres.)
type dialect struct{ postgres bool }

// nocase is expr compared and sorted ignoring the case of ASCII letters,
// byte by byte otherwise: SQLite's NOCASE collation, and on PostgreSQL the
// nocase function of its first migration, which its indexes use too.
func (d dialect) nocase(expr string) string {
	if d.postgres {
		return `nocase(` + expr + `)`
	}
	return expr + ` COLLATE NOCASE`
}

// nocaseArg is the next argument as the other side of a comparison with
// nocase(expr): SQLite applies the collation of the column to both sides,
// PostgreSQL's function must be applied to each.
func (d dialect) nocaseArg() string {
	if d.postgres {
		return `nocase(?)`
	}
	return `?`
}

// equalsNocase is the condition that expr equals the next argument,
// ignoring the case of ASCII letters, in the words of the unique indexes on
// account names and e-mail addresses.
func (d dialect) equalsNocase(expr string) string {
	return d.nocase(expr) + ` = ` + d.nocaseArg()
}

// likeNocase is the condition that expr holds the LIKE pattern given as
// the next argument (escaped with \), ignoring the case of ASCII letters.
func (d dialect) likeNocase(expr string) string {
	if d.postgres {
		return `nocase(` + expr + `) LIKE nocase(?) ESCAPE '\'`
	}
	// SQLite's LIKE ignores the case of ASCII letters itself.
	return expr + ` LIKE ? ESCAPE '\'`
}

// jsonStrings is a table, named alias, of the strings of a JSON array
// given as the next argument, in a column named value.
func (d dialect) jsonStrings(alias string) string {
	if d.postgres {
		return `json_array_elements_text(CAST(? AS json)) AS ` + alias + `(value)`
	}
	return `json_each(?) AS ` + alias
}

// inStrings is the condition, after an expression, that it is one of the
// strings of a JSON array given as the next argument.
func (d dialect) inStrings() string {
	if d.postgres {
		return ` IN (SELECT value FROM json_array_elements_text(CAST(? AS json)) AS j(value))`
	}
	return ` IN (SELECT value FROM json_each(?))`
}

// jsonValues is a table of the elements of a JSON array given as the next
// argument, each as JSON, in a column named value (whose elements ->>
// reads).
func (d dialect) jsonValues() string {
	if d.postgres {
		return `json_array_elements(CAST(? AS json)) AS j(value)`
	}
	return `json_each(?)`
}

// jsonArrays aggregates the rows into a JSON array of arrays of exprs (a
// list of columns), [] when there is no row.
func (d dialect) jsonArrays(exprs string) string {
	if d.postgres {
		return `COALESCE(json_agg(json_build_array(` + exprs + `)), '[]')`
	}
	return `json_group_array(json_array(` + exprs + `))`
}

// join joins a table to the rows before it. SQLite keeps a CROSS JOIN's
// tables in the written order, which the list uses to have its candidates
// read first; PostgreSQL takes no ON after CROSS JOIN, and chooses the
// order itself.
func (d dialect) join() string {
	if d.postgres {
		return ` JOIN `
	}
	return ` CROSS JOIN `
}

// globLike is the condition that expr matches the case-sensitive pattern
// of the next argument, as likePattern writes it for the engine.
func (d dialect) globLike(expr string) string {
	if d.postgres {
		return expr + ` LIKE ? ESCAPE '\'`
	}
	return expr + ` GLOB ?`
}
