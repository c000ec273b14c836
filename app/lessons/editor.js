// The lessons' code editor, for cells and exercises alike: CodeMirror with Python, Tab
// to indent (Esc, then Tab, moves on), Ctrl+Enter or Shift+Enter to run or check.
import { EditorView, basicSetup, indentWithTab, keymap, python } from "../../vendor/codemirror/editor.js";

export function createEditor({ doc, parent, label, onRun, onChange = null }) {
  const runKeys = keymap.of([
    { key: "Ctrl-Enter", run: () => (onRun(), true) },
    { key: "Shift-Enter", run: () => (onRun(), true) },
  ]);
  const extensions = [
    runKeys,
    basicSetup,
    keymap.of([indentWithTab]),
    python(),
    EditorView.contentAttributes.of({ "aria-label": label }),
  ];
  if (onChange) {
    extensions.push(EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    }));
  }
  return new EditorView({ doc, parent, extensions });
}

// Replaces the whole text (one step of the editor's history: Ctrl+Z brings the old back).
export function setText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

export const textOf = (view) => view.state.doc.toString();
