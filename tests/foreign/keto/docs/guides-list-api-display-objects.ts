class User implements Namespace {}

class Chat implements Namespace {
  related: {
    member: User[]
  }
}
