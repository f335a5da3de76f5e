class User implements Namespace {}
class ApiKey implements Namespace {}

class File implements Namespace {
  related: {
    viewers: (User | ApiKey)[]
  }
  permits = {
    view: (ctx: Context) => this.related.viewers.includes(ctx.subject),
  }
}
