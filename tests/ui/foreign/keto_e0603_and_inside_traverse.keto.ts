import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Folder implements Namespace {
  related: {
    viewers: User[]
    editors: User[]
  }
}

class File implements Namespace {
  related: {
    parents: Folder[]
  }

  permits = {
    edit: (ctx: Context): boolean =>
      this.related.parents.traverse((p) =>
        p.related.viewers.includes(ctx.subject) &&  //~ E0603
        p.related.editors.includes(ctx.subject)),
  }
}
