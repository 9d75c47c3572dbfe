package main

import (
	"strings"
	"unicode/utf8"
)

// table lays out rows of cells in columns sized to their widest cell,
// counting runes (the headers hold ×, µ and →, which fmt's widths count
// as several bytes). The first and last columns are left-aligned, the
// others right-aligned. A row of one cell is a section title, printed as
// is across the columns.
type table struct {
	rows [][]string
}

// add appends a row.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// title appends a section title.
func (t *table) title(s string) { t.rows = append(t.rows, []string{s}) }

// write renders the table into b, each line indented by two spaces.
func (t *table) write(b *strings.Builder) {
	var width []int
	for _, r := range t.rows {
		if len(r) == 1 {
			continue
		}
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		if len(r) == 1 {
			b.WriteString(r[0] + "\n")
			continue
		}
		line := "  "
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == len(r)-1 && i > 0 && i == len(width)-1:
				line += "  " + c
			case i == 0:
				line += c + pad
			default:
				line += "  " + pad + c
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}
