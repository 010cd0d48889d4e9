package config

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions is the one table of functions config files may call. Paths given
// to file() are relative to baseDir; lookupEnv reads the environment.
func Functions(baseDir string, lookupEnv func(string) (string, bool)) map[string]function.Function {
	return functions(baseDir, lookupEnv, nil)
}

// functions is Functions that also hands read, when not nil, each file
// file() read, by its path, with its content.
func functions(baseDir string, lookupEnv func(string) (string, bool), read func(path string, content []byte)) map[string]function.Function {
	return map[string]function.Function{
		"env":        envFunc(lookupEnv),
		"file":       fileFunc(baseDir, read),
		"trimspace":  stdlib.TrimSpaceFunc,
		"lower":      stdlib.LowerFunc,
		"upper":      stdlib.UpperFunc,
		"join":       stdlib.JoinFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
	}
}

// envFunc is env(name[, default]): the variable's value; an error when it is
// unset and no default is given.
func envFunc(lookupEnv func(string) (string, bool)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "environment variable %s is not set; set it, or give a default: env(%q, \"...\")", name, name)
		},
	})
}

// fileFunc is file(path): the contents of a file relative to the config.
// read, when not nil, is handed each file read.
func fileFunc(baseDir string, read func(path string, content []byte)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file, relative to the config file's folder.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %s: %v", p, unwrapPathError(err))
			}
			if read != nil {
				read(p, b)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s", pe.Err)
	}
	return err
}
